package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// cpuProfileEnv names a directory; when set, every provider process writes
// a CPU profile of its whole life there, as cpu-<pid>.pprof. Terraform starts
// the provider more than once per command, so one file per process; `go tool
// pprof` merges several. It is a developer aid (CONTRIBUTING.md) and costs
// nothing when unset.
const cpuProfileEnv = "TF_PROVIDER_PVE_CPUPROFILE"

// startCPUProfile starts the profile cpuProfileEnv asks for and returns the
// function that ends it and writes the file; without the variable both do
// nothing.
func startCPUProfile() (stop func() error, err error) {
	dir := os.Getenv(cpuProfileEnv)
	if dir == "" {
		return func() error { return nil }, nil
	}
	path := filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid()))
	f, err := os.Create(path) //nolint:gosec // the directory is the developer's own choice, as with go test -cpuprofile
	if err != nil {
		return nil, fmt.Errorf("%s: cannot create the CPU profile: %w", cpuProfileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: cannot start the CPU profile %s: %w", cpuProfileEnv, path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s: cannot write the CPU profile %s: %w", cpuProfileEnv, path, err)
		}
		return nil
	}, nil
}

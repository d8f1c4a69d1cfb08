package lxctest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// OptOutEnv turns the real-container tests off when set to "0"; `make
// test-unit` sets it so that the fast loop never starts a container.
const OptOutEnv = "PVE_TEST_LXC"

// repoTools are the host tools LocalRepo runs besides the backend's, with
// the Debian package of each.
var repoTools = []struct{ binary, pkg string }{
	{"apt-get", "apt"},
	{"dpkg-deb", "dpkg"},
}

// Require skips tb unless real LXC containers are wanted (PVE_TEST_LXC is
// not "0") and can run here: root on Linux with the backend's host tools
// and LocalRepo's, as lxcbackend.Available and the skip message say.
func Require(tb testing.TB) {
	tb.Helper()
	skipIfOptedOut(tb)
	if err := available(); err != nil {
		tb.Skipf("the real-container tests need the simulator's lxc backend, which cannot run here: %v", err)
	}
}

// RequireInstalling is Require that first installs the missing host
// packages with apt-get when it can (root on Linux), so that the
// end-to-end suite can start from a bare Debian machine.
func RequireInstalling(tb testing.TB) {
	tb.Helper()
	skipIfOptedOut(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := ensureHostPackages(ctx); err != nil {
		tb.Skipf("the real-container tests need the simulator's lxc backend, which cannot run here: %v", err)
	}
}

func skipIfOptedOut(tb testing.TB) {
	tb.Helper()
	if os.Getenv(OptOutEnv) == "0" {
		tb.Skipf("real LXC containers are turned off (%s=0, as make test-unit sets); make test runs this test", OptOutEnv)
	}
}

// available is lxcbackend.Available plus LocalRepo's host tools.
func available() error {
	if err := lxcbackend.Available(); err != nil {
		return err
	}
	if missing := missingRepoPackages(); len(missing) > 0 {
		return fmt.Errorf("the local package repository needs apt-get and dpkg-deb; install with: apt-get install -y --no-install-recommends %s", strings.Join(missing, " "))
	}
	return nil
}

// missingRepoPackages lists the packages of LocalRepo's missing tools.
func missingRepoPackages() []string {
	var pkgs []string
	for _, tool := range repoTools {
		if _, err := exec.LookPath(tool.binary); err != nil && !slices.Contains(pkgs, tool.pkg) {
			pkgs = append(pkgs, tool.pkg)
		}
	}
	return pkgs
}

// ensureHostPackages installs the Debian packages the backend and
// LocalRepo need when some are missing. It does nothing when everything is
// present and installs nothing when not root or not on Linux; either way it
// returns why real containers still cannot run, or nil.
func ensureHostPackages(ctx context.Context) error {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		return available()
	}
	missing := append(lxcbackend.MissingPackages(), missingRepoPackages()...)
	if len(missing) == 0 {
		return available()
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("installing %s needs apt-get: %w", strings.Join(missing, " "), err)
	}
	if _, err := hostCommand(ctx, "", "apt-get", "update", "-q"); err != nil {
		return fmt.Errorf("installing the lxc backend's packages: %w", err)
	}
	args := append([]string{"install", "-y", "-q", "--no-install-recommends"}, missing...)
	if _, err := hostCommand(ctx, "", "apt-get", args...); err != nil {
		return fmt.Errorf("installing the lxc backend's packages: %w", err)
	}
	return available()
}

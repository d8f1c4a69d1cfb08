//go:build linux

// Command plugintap stands in for a Terraform provider binary so that tests
// and benchmarks can observe the provider process on its own: its CPU time
// and what it writes to stderr, where plugins send their log lines.
//
// Terraform starts it like any plugin; it runs the real provider binary
// ($PLUGIN_TAP_EXEC) as its only child with the same arguments, standard
// streams and environment (minus the PLUGIN_TAP_* variables), so the plugin
// handshake and all gRPC traffic go straight to the provider. Terraform may
// start the provider several times in one command; each process adds to the
// files below.
//
//   - $PLUGIN_TAP_RUSAGE: when the provider exits, wait4(2) hands over its
//     rusage: the user and system time of all its threads from exec to exit,
//     and its peak resident set size; they are appended as one line
//     "user_ns system_ns maxrss_kib".
//   - $PLUGIN_TAP_STDERR: the provider's stderr is copied there as well as
//     passed on to terraform.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	provider := os.Getenv("PLUGIN_TAP_EXEC")
	rusageFile, stderrFile := os.Getenv("PLUGIN_TAP_RUSAGE"), os.Getenv("PLUGIN_TAP_STDERR")
	if provider == "" {
		fmt.Fprintln(os.Stderr, "plugintap: set PLUGIN_TAP_EXEC to the provider binary")
		os.Exit(2)
	}
	for _, name := range []string{"PLUGIN_TAP_EXEC", "PLUGIN_TAP_RUSAGE", "PLUGIN_TAP_STDERR"} {
		_ = os.Unsetenv(name)
	}
	// Plugins ignore the interrupt terraform's process group receives on
	// Ctrl-C (terraform stops them over gRPC); so does the stand-in.
	signal.Ignore(os.Interrupt)

	cmd := exec.Command(provider, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if stderrFile != "" {
		f, err := openAppend(stderrFile)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		// exec copies into the writer and Run waits until the copy is done.
		cmd.Stderr = io.MultiWriter(os.Stderr, f)
	}
	// Should terraform kill the stand-in, the provider goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fail(err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && rusageFile != "" {
		if err := appendLine(rusageFile, fmt.Sprintf("%d %d %d\n", syscall.TimevalToNsec(ru.Utime), syscall.TimevalToNsec(ru.Stime), ru.Maxrss)); err != nil {
			fail(err)
		}
	}
	os.Exit(cmd.ProcessState.ExitCode())
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

func appendLine(path, line string) error {
	f, err := openAppend(path)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line)
	return errors.Join(err, f.Close())
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "plugintap: %v\n", err)
	os.Exit(1)
}

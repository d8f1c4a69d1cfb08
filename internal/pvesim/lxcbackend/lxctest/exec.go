package lxctest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// Output runs a shell script in a running container as root, like `pct
// exec`, and returns its stdout; a non-zero exit is an error showing both
// streams. It does not fail a test, so check functions can use it.
func Output(b *lxcbackend.Backend, vmid int, script string) (string, error) {
	stdout, stderr, code, err := run(b, vmid, script)
	if err != nil {
		return "", err
	}
	if code != 0 {
		return stdout, fmt.Errorf("CT %d: %q exited %d\nstdout: %s\nstderr: %s", vmid, script, code, stdout, stderr)
	}
	return stdout, nil
}

// Sh is Output that fails tb unless the script exits 0.
func Sh(tb testing.TB, b *lxcbackend.Backend, vmid int, script string) string {
	tb.Helper()
	out, err := Output(b, vmid, script)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// ShStatus runs a shell script in a container and returns its output and
// exit status, failing tb only when it cannot run at all.
func ShStatus(tb testing.TB, b *lxcbackend.Backend, vmid int, script string) (stdout, stderr string, code int) {
	tb.Helper()
	stdout, stderr, code, err := run(b, vmid, script)
	if err != nil {
		tb.Fatal(err)
	}
	return stdout, stderr, code
}

func run(b *lxcbackend.Backend, vmid int, script string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code, err = b.Exec(ctx, vmid, []string{"/bin/sh", "-c", script}, nil, &out, &errOut)
	if err != nil {
		return "", "", 0, fmt.Errorf("CT %d: exec %q: %w", vmid, script, err)
	}
	return out.String(), errOut.String(), code, nil
}

package lxcbackend

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// testAppliance is the template name the simulated aplinfo offers.
const testAppliance = "debian-12-standard_12.7-1_amd64.tar.zst"

// requireLXC skips a test that needs real containers where the backend
// cannot run, with the reason.
func requireLXC(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("lxc backend not available here: %v", err)
	}
}

// searchableTempDir is a test directory whose ancestors uid 100000 can
// enter, as unprivileged containers need.
func searchableTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newTestBackend starts a backend on a fresh state directory and closes it
// when the test ends.
func newTestBackend(t *testing.T, egress bool) *Backend {
	t.Helper()
	b, err := New(Config{StateDir: searchableTempDir(t), Egress: egress, Logf: t.Logf})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// testImage prepares the test appliance (built once per machine, then
// cached) and returns its path.
func testImage(t *testing.T, b *Backend) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), testAppliance)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	started := time.Now()
	if err := b.PrepareImage(ctx, testAppliance, path, func(line string) { t.Log(line) }); err != nil {
		t.Fatalf("PrepareImage: %v", err)
	}
	t.Logf("PrepareImage took %s", time.Since(started).Round(time.Millisecond))
	return path
}

// testSpec is a container spec with one interface on the bridge.
func testSpec(vmid int, image, ip string, unprivileged bool) backend.ContainerSpec {
	return backend.ContainerSpec{
		VMID:         vmid,
		Node:         "pve",
		Hostname:     fmt.Sprintf("ct%d", vmid),
		ImagePath:    image,
		Unprivileged: unprivileged,
		MemoryMiB:    512,
		SwapMiB:      256,
		Cores:        1,
		Networks:     []backend.Network{{Index: 0, Name: "eth0", Bridge: "vmbr0", IP: ip}},
	}
}

// run executes a shell command in a container and fails the test unless it
// exits 0; it returns stdout.
func run(t *testing.T, b *Backend, vmid int, script string) string {
	t.Helper()
	out, errOut, code := runStatus(t, b, vmid, script)
	if code != 0 {
		t.Fatalf("CT %d: %q exited %d\nstdout: %s\nstderr: %s", vmid, script, code, out, errOut)
	}
	return out
}

// runStatus executes a shell command in a container and returns its
// output and exit status.
func runStatus(t *testing.T, b *Backend, vmid int, script string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code, err := b.Exec(ctx, vmid, []string{"/bin/sh", "-c", script}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("CT %d: exec %q: %v", vmid, script, err)
	}
	return stdout.String(), stderr.String(), code
}

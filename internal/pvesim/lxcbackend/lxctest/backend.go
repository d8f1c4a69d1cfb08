package lxctest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// Appliance is the Debian 12 template the simulated aplinfo offers and the
// backend builds with mmdebstrap.
const Appliance = "debian-12-standard_12.7-1_amd64.tar.zst"

// NewBackend starts an lxc backend for tb (call Require first) on a fresh
// directory unprivileged containers can enter, logging to tb unless cfg
// says otherwise, and closes it when tb ends. cfg.StateDir is ignored.
func NewBackend(tb testing.TB, cfg lxcbackend.Config) *lxcbackend.Backend {
	tb.Helper()
	cfg.StateDir = SearchableTempDir(tb)
	if cfg.Logf == nil {
		cfg.Logf = tb.Logf
	}
	b, err := lxcbackend.New(cfg)
	if err != nil {
		tb.Fatalf("starting the lxc backend: %v", err)
	}
	// Close is idempotent: a simulator on b, or the test itself, may close
	// it first.
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("closing the lxc backend: %v", err)
		}
	})
	return b
}

// SearchableTempDir is a test directory whose ancestors the root of an
// unprivileged container (uid 100000 on the host) can enter.
func SearchableTempDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil { //nolint:gosec // see above
			tb.Fatal(err)
		}
	}
	return dir
}

// Image prepares the Appliance for b (built once per machine, then cached)
// and returns its path.
func Image(tb testing.TB, b *lxcbackend.Backend) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), Appliance)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	started := time.Now()
	if err := b.PrepareImage(ctx, Appliance, path, func(line string) { tb.Log(line) }); err != nil {
		tb.Fatalf("PrepareImage: %v", err)
	}
	tb.Logf("PrepareImage took %s", time.Since(started).Round(time.Millisecond))
	return path
}

// Spec is a container of image with 512 MiB, 1 core and one interface on
// the bridge, eth0, with ip "dhcp" (an address from the bridge's subnet)
// or a CIDR.
func Spec(vmid int, image, ip string, unprivileged bool) backend.ContainerSpec {
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

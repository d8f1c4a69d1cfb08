package lxcbackend

import (
	"context"
	"testing"
	"time"
)

// benchBackend starts a backend for a benchmark, or skips it where real
// containers cannot run.
func benchBackend(b *testing.B) (*Backend, string) {
	b.Helper()
	if err := Available(); err != nil {
		b.Skipf("lxc backend not available here: %v", err)
	}
	dir := searchableTempDir(b)
	be, err := New(Config{StateDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = be.Close() })
	image := dir + "/" + testAppliance
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := be.PrepareImage(ctx, testAppliance, image, func(string) {}); err != nil {
		b.Fatal(err)
	}
	return be, image
}

// BenchmarkExec measures one `pct exec` round trip (lxc-attach running
// /bin/true in a running container).
func BenchmarkExec(b *testing.B) {
	be, image := benchBackend(b)
	ctx := context.Background()
	if err := be.Create(ctx, testSpec(601, image, "dhcp", false), func(string) {}); err != nil {
		b.Fatal(err)
	}
	if err := be.Start(ctx, 601); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if code, err := be.Exec(ctx, 601, []string{"/bin/true"}, nil, nil, nil); err != nil || code != 0 {
			b.Fatalf("exit %d, %v", code, err)
		}
	}
}

// BenchmarkCreateStartDestroy measures a container's whole life with a warm
// image and base cache: create, start until systemd is up, forced stop,
// destroy.
func BenchmarkCreateStartDestroy(b *testing.B) {
	be, image := benchBackend(b)
	ctx := context.Background()
	vmid := 700
	for b.Loop() {
		vmid++
		if err := be.Create(ctx, testSpec(vmid, image, "dhcp", true), func(string) {}); err != nil {
			b.Fatal(err)
		}
		if err := be.Start(ctx, vmid); err != nil {
			b.Fatal(err)
		}
		if err := be.Stop(ctx, vmid, true); err != nil {
			b.Fatal(err)
		}
		if err := be.Destroy(ctx, vmid); err != nil {
			b.Fatal(err)
		}
	}
}

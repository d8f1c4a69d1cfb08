package lxcbackend_test

import (
	"context"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// benchBackend starts a quiet backend and prepares the image for a
// benchmark, or skips it where real containers cannot run.
func benchBackend(b *testing.B) (*lxcbackend.Backend, string) {
	b.Helper()
	lxctest.Require(b)
	be := lxctest.NewBackend(b, lxcbackend.Config{Logf: func(string, ...any) {}})
	return be, lxctest.Image(b, be)
}

// BenchmarkExec measures one `pct exec` round trip (lxc-attach running
// /bin/true in a running container).
func BenchmarkExec(b *testing.B) {
	be, image := benchBackend(b)
	ctx := context.Background()
	if err := be.Create(ctx, lxctest.Spec(601, image, "dhcp", false), func(string) {}); err != nil {
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
		if err := be.Create(ctx, lxctest.Spec(vmid, image, "dhcp", true), func(string) {}); err != nil {
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

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

// provisionedContainer starts a container whose writable layer looks like
// one after provisioning: a copied library tree (thousands of files) and a
// 100 MB file.
func provisionedContainer(b *testing.B, be *lxcbackend.Backend, image string, vmid int) {
	b.Helper()
	ctx := context.Background()
	if err := be.Create(ctx, lxctest.Spec(vmid, image, "dhcp", true), func(string) {}); err != nil {
		b.Fatal(err)
	}
	if err := be.Start(ctx, vmid); err != nil {
		b.Fatal(err)
	}
	script := "cp -a /usr/lib/x86_64-linux-gnu /opt/libcopy && head -c 100000000 /dev/urandom > /opt/big && sync"
	if code, err := be.Exec(ctx, vmid, []string{"/bin/sh", "-c", script}, nil, nil, nil); err != nil || code != 0 {
		b.Fatalf("provisioning: exit %d, %v", code, err)
	}
}

// BenchmarkSnapshotRunning measures a snapshot of a running, provisioned
// container (freeze, copy of the writable layer, thaw) and its deletion.
func BenchmarkSnapshotRunning(b *testing.B) {
	be, image := benchBackend(b)
	ctx := context.Background()
	provisionedContainer(b, be, image, 801)
	for b.Loop() {
		if err := be.Snapshot(ctx, 801, "bench"); err != nil {
			b.Fatal(err)
		}
		if err := be.DeleteSnapshot(ctx, 801, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRollback measures the rollback of a stopped, provisioned
// container to a snapshot (a copy of the snapshot replaces the layer).
func BenchmarkRollback(b *testing.B) {
	be, image := benchBackend(b)
	ctx := context.Background()
	provisionedContainer(b, be, image, 802)
	if err := be.Snapshot(ctx, 802, "bench"); err != nil {
		b.Fatal(err)
	}
	if err := be.Stop(ctx, 802, true); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := be.Rollback(ctx, 802, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

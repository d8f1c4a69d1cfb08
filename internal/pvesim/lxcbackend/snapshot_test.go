package lxcbackend_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestSnapshotAndRollback takes a snapshot of a running container, changes
// its filesystem (a new file, a changed file, a file of the base removed),
// rolls back and checks every change is undone, for a privileged and an
// unprivileged container.
func TestSnapshotAndRollback(t *testing.T) {
	lxctest.Require(t)
	b := lxctest.NewBackend(t, lxcbackend.Config{})
	image := lxctest.Image(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		vmid         int
		unprivileged bool
	}{{211, false}, {212, true}} {
		spec := lxctest.Spec(tc.vmid, image, "dhcp", tc.unprivileged)
		if err := b.Create(ctx, spec, func(string) {}); err != nil {
			t.Fatalf("Create %d: %v", tc.vmid, err)
		}
		if err := b.Start(ctx, tc.vmid); err != nil {
			t.Fatalf("Start %d: %v", tc.vmid, err)
		}
		lxctest.Sh(t, b, tc.vmid, "echo before > /root/kept && sync")
		if err := b.Snapshot(ctx, tc.vmid, "s1"); err != nil {
			t.Fatalf("Snapshot %d: %v", tc.vmid, err)
		}
		// The container was frozen for the copy and runs on afterwards.
		if state := lxcbackend.LXCState(ctx, b.LXCPath(), strconv.Itoa(tc.vmid)); state != "RUNNING" {
			t.Fatalf("CT %d is %s after the snapshot, want RUNNING", tc.vmid, state)
		}
		if err := b.Snapshot(ctx, tc.vmid, "s1"); err == nil || !strings.Contains(err.Error(), `already has a snapshot "s1"`) {
			t.Errorf("second snapshot s1 of CT %d: %v", tc.vmid, err)
		}
		lxctest.Sh(t, b, tc.vmid, "echo after > /root/kept && echo new > /root/added && rm /etc/debian_version")
		if err := b.Rollback(ctx, tc.vmid, "s1"); err == nil || !strings.Contains(err.Error(), "must be stopped") {
			t.Errorf("rollback of running CT %d: %v", tc.vmid, err)
		}
		if err := b.Stop(ctx, tc.vmid, true); err != nil {
			t.Fatal(err)
		}
		if err := b.Rollback(ctx, tc.vmid, "nosuch"); err == nil || !strings.Contains(err.Error(), `has no snapshot "nosuch"`) {
			t.Errorf("rollback of CT %d to an unknown snapshot: %v", tc.vmid, err)
		}
		for round := 1; round <= 2; round++ { // the snapshot survives a rollback
			if err := b.Rollback(ctx, tc.vmid, "s1"); err != nil {
				t.Fatalf("Rollback %d (round %d): %v", tc.vmid, round, err)
			}
			if err := b.Start(ctx, tc.vmid); err != nil {
				t.Fatalf("Start %d after rollback: %v", tc.vmid, err)
			}
			got := lxctest.Sh(t, b, tc.vmid, "cat /root/kept; test -e /root/added && echo added; cat /etc/debian_version >/dev/null && echo base-file; echo x > /root/writable && echo writable")
			if got != "before\nbase-file\nwritable\n" {
				t.Errorf("CT %d after rollback (round %d): %q, want the snapshot's files and a writable root", tc.vmid, round, got)
			}
			lxctest.Sh(t, b, tc.vmid, "echo changed-again > /root/kept")
			if err := b.Stop(ctx, tc.vmid, true); err != nil {
				t.Fatal(err)
			}
		}
		dir := b.SnapshotDir(tc.vmid, "s1")
		if err := b.DeleteSnapshot(ctx, tc.vmid, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("snapshot directory %s after DeleteSnapshot: %v", dir, err)
		}
		if err := b.DeleteSnapshot(ctx, tc.vmid, "s1"); err != nil {
			t.Errorf("deleting a deleted snapshot: %v", err)
		}
	}
	if err := b.Snapshot(ctx, 211, "../escape"); err == nil {
		t.Error("a snapshot name with a path was accepted")
	}
	if err := b.Snapshot(ctx, 211, "s2"); err != nil {
		t.Fatal(err)
	}
	if err := b.Destroy(ctx, 211); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(b.SnapshotDir(211, "s2"))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("snapshots of a destroyed container: %v", err)
	}
}

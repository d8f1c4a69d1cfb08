package backend

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestMemorySnapshots(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if err := m.Create(ctx, ContainerSpec{VMID: 100, Hostname: "before", MemoryMiB: 512}, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if err := m.Snapshot(ctx, 100, "s1"); err != nil {
		t.Fatalf("snapshot of a running container: %v", err)
	}
	if err := m.Snapshot(ctx, 100, "s1"); err == nil || !strings.Contains(err.Error(), `already has a snapshot "s1"`) {
		t.Errorf("second snapshot s1: %v", err)
	}
	if err := m.Snapshot(ctx, 999, "s1"); err == nil {
		t.Error("snapshot of an unknown container succeeded")
	}
	if err := m.Update(ctx, ContainerSpec{VMID: 100, Hostname: "after", MemoryMiB: 1024}); err != nil {
		t.Fatal(err)
	}
	if err := m.Rollback(ctx, 100, "s1"); err == nil || !strings.Contains(err.Error(), "must be stopped") {
		t.Errorf("rollback of a running container: %v", err)
	}
	if err := m.Stop(ctx, 100, true); err != nil {
		t.Fatal(err)
	}
	if err := m.Rollback(ctx, 100, "nosuch"); err == nil {
		t.Error("rollback to an unknown snapshot succeeded")
	}
	if err := m.Rollback(ctx, 100, "s1"); err != nil {
		t.Fatal(err)
	}
	if spec, _ := m.Spec(100); spec.Hostname != "before" || spec.MemoryMiB != 512 {
		t.Errorf("spec after rollback = %+v, want the snapshot's", spec)
	}
	if err := m.Snapshot(ctx, 100, "s2"); err != nil {
		t.Fatal(err)
	}
	if got := m.Snapshots(100); !slices.Equal(got, []string{"s1", "s2"}) {
		t.Errorf("snapshots = %v", got)
	}
	for range 2 { // deleting is idempotent
		if err := m.DeleteSnapshot(ctx, 100, "s1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Snapshots(100); !slices.Equal(got, []string{"s2"}) {
		t.Errorf("snapshots after delete = %v", got)
	}
	if err := m.Destroy(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if got := m.Snapshots(100); got != nil {
		t.Errorf("snapshots of a destroyed container = %v", got)
	}
}

package backend

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// The memory backend has no filesystem to capture: a snapshot records the
// container's spec at that moment, and a rollback brings that spec back.
// That is enough for the API layer's snapshot tasks and for tests to see
// which snapshots the backend holds.

// containerLocked looks vmid up; the caller holds m.mu.
func (m *Memory) containerLocked(vmid int) (*memContainer, error) {
	c, ok := m.containers[vmid]
	if !ok {
		return nil, fmt.Errorf("container %d does not exist in the memory backend", vmid)
	}
	return c, nil
}

// Snapshot implements Backend.
func (m *Memory) Snapshot(ctx context.Context, vmid int, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.containerLocked(vmid)
	if err != nil {
		return err
	}
	if _, ok := c.snapshots[name]; ok {
		return fmt.Errorf("container %d already has a snapshot %q in the memory backend", vmid, name)
	}
	if c.snapshots == nil {
		c.snapshots = map[string]ContainerSpec{}
	}
	c.snapshots[name] = c.spec
	return nil
}

// Rollback implements Backend.
func (m *Memory) Rollback(ctx context.Context, vmid int, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.containerLocked(vmid)
	if err != nil {
		return err
	}
	spec, ok := c.snapshots[name]
	if !ok {
		return fmt.Errorf("container %d has no snapshot %q in the memory backend", vmid, name)
	}
	if c.running {
		return fmt.Errorf("container %d is running; it must be stopped to roll back", vmid)
	}
	c.spec = spec
	return nil
}

// DeleteSnapshot implements Backend.
func (m *Memory) DeleteSnapshot(ctx context.Context, vmid int, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.containers[vmid]; ok {
		delete(c.snapshots, name)
	}
	return nil
}

// Snapshots lists the snapshot names the backend holds for vmid, sorted
// (nil for an unknown container).
func (m *Memory) Snapshots(vmid int) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[vmid]
	if !ok {
		return nil
	}
	return slices.Sorted(maps.Keys(c.snapshots))
}

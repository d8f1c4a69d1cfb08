package provider

import (
	"context"
	"sync"
)

// guestTaskLocks serialise, within this provider process, the snapshot
// tasks (take, roll back, delete) of one container. Proxmox VE does not
// queue them: a snapshot task that finds the container locked by another
// ("CT is locked (snapshot)") fails at once, so the pve_lxc_snapshot
// resources of one container, created in parallel by Terraform, would
// otherwise fail each other.
type guestTaskLocks struct {
	mu    sync.Mutex
	slots map[int]chan struct{}
}

// acquire waits, bounded by ctx, until no other snapshot task of vmid runs
// in this process, and returns the function that lets the next one run.
func (l *guestTaskLocks) acquire(ctx context.Context, vmid int) (release func(), err error) {
	l.mu.Lock()
	if l.slots == nil {
		l.slots = map[int]chan struct{}{}
	}
	slot, ok := l.slots[vmid]
	if !ok {
		slot = make(chan struct{}, 1)
		l.slots[vmid] = slot
	}
	l.mu.Unlock()
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

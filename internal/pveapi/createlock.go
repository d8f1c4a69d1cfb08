package pveapi

import (
	"context"
	"net/http"
	"strconv"
)

// ActiveTasks lists the tasks running on a node (GET /nodes/{node}/tasks
// with source=active).
func (c *Client) ActiveTasks(ctx context.Context, node string) ([]TaskSummary, error) {
	p := NewParams().Set("source", "active").SetInt("limit", 1000)
	var out []TaskSummary
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "tasks"), p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateLockIsStale reports whether container vmid's config carries the
// "create" lock (LockCreate) although no task that could hold it runs on
// the node: its create, restore or clone died (PVE crashed or restarted
// while it ran) and nothing will ever remove the lock, so every change,
// start and destroy fails with "CT is locked (create)" until
// `pct unlock <vmid>` runs on the node. It is false for a config without
// that lock and while a create or restore of vmid, or any clone, runs on
// the node (a clone's task id names its source, not the new guest, so any
// running clone may be the holder). A missing container matches
// ErrNotFound.
func (c *Client) CreateLockIsStale(ctx context.Context, node string, vmid int) (bool, error) {
	cfg, err := c.ContainerConfig(ctx, node, vmid)
	if err != nil {
		return false, err
	}
	if !cfg.LockedByCreate() {
		return false, nil
	}
	tasks, err := c.ActiveTasks(ctx, node)
	if err != nil {
		return false, err
	}
	id := strconv.Itoa(vmid)
	for _, t := range tasks {
		switch {
		case (t.Type == "vzcreate" || t.Type == "vzrestore") && t.ID == id:
			return false, nil
		case t.Type == "vzclone":
			return false, nil
		}
	}
	// A task that finished between the two reads has removed its lock (or
	// the config): read it again so that only a lock nobody holds counts.
	cfg, err = c.ContainerConfig(ctx, node, vmid)
	if err != nil {
		return false, err
	}
	return cfg.LockedByCreate(), nil
}

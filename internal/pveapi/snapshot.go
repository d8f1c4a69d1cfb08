package pveapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// Container snapshots, /nodes/{node}/lxc/{vmid}/snapshot. PVE checks almost
// nothing before it forks the snapshot, delete and rollback workers: a
// taken name, a missing snapshot, a locked container or a storage without
// snapshots are the task's exit status, a *TaskError that matches
// ErrAlreadyExists, ErrNotFound, ErrLocked or ErrSnapshotUnsupported.
//
// PVE keeps descriptions as comment lines of the config file, so a
// description reads back with "\n" after every line ("before update" →
// "before update\n").

// Snapshot is one snapshot of a container.
type Snapshot struct {
	Name        string
	Description string
	// SnapTime is when the snapshot was taken (Unix seconds).
	SnapTime int64
	// Parent is the snapshot this one was taken after, "" for the first.
	Parent string
	// SnapState is "prepare" or "delete" while a task works on the
	// snapshot, else "".
	SnapState string
}

// SnapshotList is GET .../snapshot: the snapshots and PVE's "current"
// pseudo entry, which describes the container's present state.
type SnapshotList struct {
	// Snapshots are sorted by SnapTime, then name ("current" is not one).
	Snapshots []Snapshot
	// Parent is the snapshot the present state descends from ("" when the
	// container has none, or after its parent was deleted).
	Parent string
	// Running reports whether the container runs.
	Running bool
	// Digest is the config file's digest.
	Digest string
}

// Find returns the snapshot called name.
func (l *SnapshotList) Find(name string) (Snapshot, bool) {
	for _, s := range l.Snapshots {
		if s.Name == name {
			return s, true
		}
	}
	return Snapshot{}, false
}

// currentSnapshotName is the list's pseudo entry for the present state.
const currentSnapshotName = "current"

// ListSnapshots reads a container's snapshots. A missing container matches
// ErrNotFound.
func (c *Client) ListSnapshots(ctx context.Context, node string, vmid int) (*SnapshotList, error) {
	var entries []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		SnapTime    int64  `json:"snaptime"`
		Parent      string `json:"parent"`
		SnapState   string `json:"snapstate"`
		Running     bool   `json:"running"` // "current" only
		Digest      string `json:"digest"`  // "current" only
	}
	if err := c.Do(ctx, http.MethodGet, lxcPath(node, vmid, "snapshot"), nil, &entries); err != nil {
		return nil, err
	}
	out := &SnapshotList{}
	for _, e := range entries {
		if e.Name == currentSnapshotName {
			out.Parent, out.Running, out.Digest = e.Parent, e.Running, e.Digest
			continue
		}
		out.Snapshots = append(out.Snapshots, Snapshot{Name: e.Name, Description: e.Description, SnapTime: e.SnapTime, Parent: e.Parent, SnapState: e.SnapState})
	}
	slices.SortFunc(out.Snapshots, func(a, b Snapshot) int {
		return cmp.Or(cmp.Compare(a.SnapTime, b.SnapTime), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// CreateSnapshotAsync starts a snapshot (a vzsnapshot task). name follows
// PVE's configid format (a letter, then letters, digits, '-' or '_'; at
// most 40); "current" and "vzdump" are reserved. An empty description sets
// none.
func (c *Client) CreateSnapshotAsync(ctx context.Context, node string, vmid int, name, description string) (string, error) {
	p := NewParams().Set("snapname", name)
	if description != "" {
		p.Set("description", description)
	}
	return c.postTask(ctx, http.MethodPost, lxcPath(node, vmid, "snapshot"), p)
}

// CreateSnapshot takes a snapshot and waits for the task. A running
// container keeps running (PVE freezes it while the volumes are
// snapshotted). A storage that cannot snapshot the container's volumes
// fails with an error matching ErrSnapshotUnsupported, a taken name with
// ErrAlreadyExists.
func (c *Client) CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (*TaskResult, error) {
	return c.waitFor(c.CreateSnapshotAsync(ctx, node, vmid, name, description))(ctx)
}

// DeleteSnapshotAsync starts deleting a snapshot (a vzdelsnapshot task).
// force removes it from the config even when removing the volume snapshots
// fails.
func (c *Client) DeleteSnapshotAsync(ctx context.Context, node string, vmid int, name string, force bool) (string, error) {
	var p *Params
	if force {
		p = NewParams().SetBool("force", true)
	}
	return c.postTask(ctx, http.MethodDelete, lxcPath(node, vmid, "snapshot", name), p)
}

// DeleteSnapshot deletes a snapshot and waits for the task; a missing
// snapshot matches ErrNotFound. Snapshots that descended from it get its
// parent as theirs.
func (c *Client) DeleteSnapshot(ctx context.Context, node string, vmid int, name string, force bool) (*TaskResult, error) {
	return c.waitFor(c.DeleteSnapshotAsync(ctx, node, vmid, name, force))(ctx)
}

// RollbackSnapshotAsync starts a rollback (a vzrollback task). PVE stops a
// running container first. With start, the rollback worker asks PVE to
// start the container afterwards, which forks a vzstart task of its own
// that the rollback task does not wait for (see RollbackSnapshot).
func (c *Client) RollbackSnapshotAsync(ctx context.Context, node string, vmid int, name string, start bool) (string, error) {
	var p *Params
	if start {
		p = NewParams().SetBool("start", true)
	}
	return c.postTask(ctx, http.MethodPost, lxcPath(node, vmid, "snapshot", name, "rollback"), p)
}

// RollbackSnapshot rolls a container back to a snapshot and waits: the
// filesystem and the config become the snapshot's (the config's description
// stays; pending changes go). With start it also waits for the vzstart task
// PVE forks, so the container runs when this returns; the result's Warnings
// include the start's. A failed start is a *StartAfterRollbackError: the
// rollback itself succeeded.
func (c *Client) RollbackSnapshot(ctx context.Context, node string, vmid int, name string, start bool) (*TaskResult, error) {
	res, err := c.waitFor(c.RollbackSnapshotAsync(ctx, node, vmid, name, start))(ctx)
	if err != nil || !start {
		return res, err
	}
	upid, err := c.taskStartedBy(ctx, node, vmid, "vzstart", res)
	if err != nil {
		return res, &StartAfterRollbackError{VMID: vmid, Snapshot: name, Err: err, unfollowed: true}
	}
	started, err := c.WaitTask(ctx, upid)
	if err != nil {
		return res, &StartAfterRollbackError{VMID: vmid, Snapshot: name, Err: err}
	}
	res.Warnings = append(res.Warnings, started.Warnings...)
	return res, nil
}

// StartAfterRollbackError is RollbackSnapshot's error when the rollback
// succeeded but the start PVE forked after it failed or could not be
// followed: the container holds the snapshot's state and may be stopped.
type StartAfterRollbackError struct {
	VMID     int
	Snapshot string
	Err      error

	unfollowed bool // the vzstart task was not found
}

func (e *StartAfterRollbackError) Error() string {
	if e.unfollowed {
		return fmt.Sprintf("container %d was rolled back to snapshot %q, but its start could not be followed: %v", e.VMID, e.Snapshot, e.Err)
	}
	return fmt.Sprintf("container %d was rolled back to snapshot %q, but starting it failed: %v", e.VMID, e.Snapshot, e.Err)
}

func (e *StartAfterRollbackError) Unwrap() error { return e.Err }

// taskStartedBy finds the newest task of type typ for vmid that the same
// user started no earlier than parent: a worker's follow-up task, whose id
// PVE does not report.
func (c *Client) taskStartedBy(ctx context.Context, node string, vmid int, typ string, parent *TaskResult) (string, error) {
	since := parent.UPID.StartTime.Unix()
	tasks, err := c.ListTasks(ctx, node, vmid, typ)
	if err != nil {
		return "", err
	}
	for _, t := range tasks {
		if t.User == parent.UPID.User && t.StartTime >= since && t.UPID != parent.UPID.String() {
			return t.UPID, nil
		}
	}
	return "", fmt.Errorf("no %s task of container %d on node %s started after task %s", typ, vmid, node, parent.UPID)
}

// SnapshotConfig is GET .../snapshot/{snapname}/config: the snapshot's
// metadata and the container config it kept.
type SnapshotConfig struct {
	Snapshot
	// Config holds the container's values at the time of the snapshot
	// (snaptime, description, parent and snapstate removed).
	Config ContainerConfig
}

// UnmarshalJSON splits PVE's one object into metadata and config.
func (s *SnapshotConfig) UnmarshalJSON(data []byte) error {
	if err := s.Config.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("snapshot %w", err)
	}
	values := s.Config.Map()
	s.Description, s.Parent, s.SnapState = values["description"], values["parent"], values["snapstate"]
	if v := values["snaptime"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("snapshot config: snaptime %q is not an integer", v)
		}
		s.SnapTime = n
	}
	for _, k := range []string{"description", "parent", "snapstate", "snaptime"} {
		delete(values, k)
	}
	s.Config = NewContainerConfig(values, "")
	return nil
}

var _ json.Unmarshaler = (*SnapshotConfig)(nil)

// GetSnapshot reads one snapshot (its metadata and kept config). A missing
// snapshot or container matches ErrNotFound.
func (c *Client) GetSnapshot(ctx context.Context, node string, vmid int, name string) (*SnapshotConfig, error) {
	var out SnapshotConfig
	if err := c.Do(ctx, http.MethodGet, lxcPath(node, vmid, "snapshot", name, "config"), nil, &out); err != nil {
		return nil, err
	}
	out.Name = name
	return &out, nil
}

// UpdateSnapshotDescription replaces a snapshot's description
// (synchronous, no task); "" removes it. A missing snapshot matches
// ErrNotFound, a container in a snapshot task ErrLocked.
func (c *Client) UpdateSnapshotDescription(ctx context.Context, node string, vmid int, name, description string) error {
	return c.Do(ctx, http.MethodPut, lxcPath(node, vmid, "snapshot", name, "config"), NewParams().Set("description", description), nil)
}

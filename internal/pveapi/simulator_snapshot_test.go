package pveapi_test

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// withDirStorage adds "local-dir", a directory storage for containers:
// their raw volumes cannot be snapshotted.
var withDirStorage = pvesimtest.WithStorages(append(pvesim.DefaultStorages(),
	pvesim.StorageConfig{ID: "local-dir", Type: "dir", Content: []string{"images", "rootdir"}, Path: "/mnt/local-dir", Total: 50 << 30})...)

// wantTaskError asserts err is a *TaskError matching sentinel (nil: none)
// whose exit status is exit.
func wantTaskError(e *env, what string, err error, sentinel error, exit string) {
	e.t.Helper()
	var taskErr *pveapi.TaskError
	if !errors.As(err, &taskErr) || taskErr.ExitStatus != exit {
		e.t.Fatalf("%s: error %v (%T), want a task failing with %q", what, err, err, exit)
	}
	for _, s := range []error{pveapi.ErrNotFound, pveapi.ErrAlreadyExists, pveapi.ErrLocked, pveapi.ErrSnapshotUnsupported} {
		if got := errors.Is(err, s); got != errors.Is(sentinel, s) {
			e.t.Errorf("%s: errors.Is(err, %v) = %v", what, s, got)
		}
	}
}

func testSnapshots(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("web1")
	res, err := c.StartContainer(ctx, node, vmid)
	wantTask(t, res, err, "vzstart")

	before := time.Now().Unix()
	res, err = c.CreateSnapshot(ctx, node, vmid, "pre", "before update")
	wantTask(t, res, err, "vzsnapshot")
	if post := e.requests(http.MethodPost, "/nodes/pve/lxc/100/snapshot"); len(post) != 1 ||
		post[0].Params["snapname"] != "pre" || post[0].Params["description"] != "before update" {
		t.Errorf("snapshot requests %+v", post)
	}
	list, err := c.ListSnapshots(ctx, node, vmid)
	mustOK(t, "ListSnapshots", err)
	pre, ok := list.Find("pre")
	if !ok || len(list.Snapshots) != 1 || pre.Description != "before update\n" || pre.SnapTime < before || pre.Parent != "" || pre.SnapState != "" {
		t.Errorf("snapshots %+v", list.Snapshots)
	}
	if list.Parent != "pre" || !list.Running || list.Digest != e.container(vmid).Digest {
		t.Errorf("current state: parent %q running %v digest %q", list.Parent, list.Running, list.Digest)
	}

	mustOK(t, "UpdateContainerConfig", c.UpdateContainerConfig(ctx, node, vmid, pveapi.NewParams().SetInt("memory", 2048), ""))
	_, err = c.CreateSnapshot(ctx, node, vmid, "pre", "")
	wantTaskError(e, "a second snapshot 'pre'", err, pveapi.ErrAlreadyExists, "snapshot name 'pre' already used")
	_, err = c.CreateSnapshot(ctx, node, vmid, "current", "")
	wantAPIError(t, err, http.StatusInternalServerError, "unable to use snapshot name 'current' (reserved name)")

	snap, err := c.GetSnapshot(ctx, node, vmid, "pre")
	mustOK(t, "GetSnapshot", err)
	if mem, _ := snap.Config.Int("memory", 0); snap.Name != "pre" || snap.Description != "before update\n" || snap.SnapTime != pre.SnapTime || mem != 1024 ||
		snap.Config.Has("snaptime") || snap.Config.Has("description") || snap.Config.Value("hostname") != "web1" {
		t.Errorf("GetSnapshot = %+v, config %v", snap, snap.Config.Map())
	}
	_, err = c.GetSnapshot(ctx, node, vmid, "nosuch")
	if !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("GetSnapshot(nosuch) = %v, want ErrNotFound", err)
	}
	mustOK(t, "UpdateSnapshotDescription", c.UpdateSnapshotDescription(ctx, node, vmid, "pre", "known good"))
	if snap, err := c.GetSnapshot(ctx, node, vmid, "pre"); err != nil || snap.Description != "known good\n" {
		t.Errorf("description after the update = %+v, %v", snap, err)
	}
	if err := c.UpdateSnapshotDescription(ctx, node, vmid, "nosuch", "x"); !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("UpdateSnapshotDescription(nosuch) = %v, want ErrNotFound", err)
	}

	res, err = c.CreateSnapshot(ctx, node, vmid, "second", "")
	wantTask(t, res, err, "vzsnapshot")
	// Rolling back with start waits for the start PVE forks afterwards.
	res, err = c.RollbackSnapshot(ctx, node, vmid, "pre", true)
	wantTask(t, res, err, "vzrollback")
	if rb := e.requests(http.MethodPost, "/nodes/pve/lxc/100/snapshot/pre/rollback"); len(rb) != 1 || rb[0].Params["start"] != "1" {
		t.Errorf("rollback requests %+v", rb)
	}
	st, err := c.ContainerStatus(ctx, node, vmid)
	mustOK(t, "ContainerStatus", err)
	cfg, err := c.ContainerConfig(ctx, node, vmid)
	mustOK(t, "ContainerConfig", err)
	if mem, _ := cfg.Int("memory", 0); !st.Running() || mem != 1024 || cfg.Value("parent") != "pre" {
		t.Errorf("after the rollback: running %v, memory %d, parent %q", st.Running(), mem, cfg.Value("parent"))
	}
	_, err = c.RollbackSnapshot(ctx, node, vmid, "nosuch", false)
	wantTaskError(e, "rollback to a missing snapshot", err, pveapi.ErrNotFound, "snapshot 'nosuch' does not exist")

	// A start that fails after a good rollback is reported as such.
	_, err = e.sim.Faults().Add(pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzstart", Message: "startup for container '100' failed", Count: 1})
	mustOK(t, "Faults().Add", err)
	_, err = c.RollbackSnapshot(ctx, node, vmid, "pre", true)
	var startErr *pveapi.StartAfterRollbackError
	if !errors.As(err, &startErr) || startErr.Snapshot != "pre" ||
		!strings.Contains(err.Error(), `container 100 was rolled back to snapshot "pre", but starting it failed`) {
		t.Errorf("rollback with a failing start: %v", err)
	}
	wantTaskError(e, "rollback with a failing start", err, nil, "startup for container '100' failed")

	res, err = c.DeleteSnapshot(ctx, node, vmid, "second", true)
	wantTask(t, res, err, "vzdelsnapshot")
	if del := e.requests(http.MethodDelete, "/nodes/pve/lxc/100/snapshot/second"); len(del) != 1 || del[0].Params["force"] != "1" {
		t.Errorf("delete requests %+v", del)
	}
	_, err = c.DeleteSnapshot(ctx, node, vmid, "second", false)
	wantTaskError(e, "deleting a deleted snapshot", err, pveapi.ErrNotFound, "snapshot 'second' does not exist")
	res, err = c.DeleteSnapshot(ctx, node, vmid, "pre", false)
	wantTask(t, res, err, "vzdelsnapshot")
	if list, err := c.ListSnapshots(ctx, node, vmid); err != nil || len(list.Snapshots) != 0 || list.Parent != "" {
		t.Errorf("after deleting every snapshot: %+v, %v", list, err)
	}
	if _, err := c.ListSnapshots(ctx, node, 999); !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("ListSnapshots(999) = %v, want ErrNotFound", err)
	}

	// While a snapshot task runs, the container is locked.
	_, err = e.sim.Faults().Add(pvesim.Fault{Kind: pvesim.FaultTaskSlow, TaskType: "vzsnapshot", Delay: 400 * time.Millisecond, Count: 1})
	mustOK(t, "Faults().Add", err)
	upid, err := c.CreateSnapshotAsync(ctx, node, vmid, "slow", "")
	mustOK(t, "CreateSnapshotAsync", err)
	for deadline := time.Now().Add(5 * time.Second); e.container(vmid).Lock != "snapshot"; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the snapshot task never locked the container")
		}
	}
	_, err = c.CreateSnapshot(ctx, node, vmid, "other", "")
	wantTaskError(e, "a snapshot of a locked container", err, pveapi.ErrLocked, "CT is locked (snapshot)")
	if err := c.UpdateSnapshotDescription(ctx, node, vmid, "slow", "x"); !errors.Is(err, pveapi.ErrLocked) {
		t.Errorf("description update during the snapshot task = %v, want ErrLocked", err)
	}
	res, err = c.WaitTask(ctx, upid)
	wantTask(t, res, err, "vzsnapshot")

	// A container on raw files of a directory storage cannot be snapshotted.
	onDir, res, err := c.CreateContainerAuto(ctx, node, containerParams("web2").Set("rootfs", "local-dir:4"))
	wantTask(t, res, err, "vzcreate")
	_, err = c.CreateSnapshot(ctx, node, onDir, "pre", "")
	wantTaskError(e, "a snapshot on a dir storage", err, pveapi.ErrSnapshotUnsupported, "snapshot feature is not available")
}

package pvesim

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
)

// Container snapshots as pve-container makes them (API2/LXC/Snapshot.pm on
// top of AbstractConfig's snapshot_create, snapshot_delete and
// snapshot_rollback). A snapshot is a "[name]" section of the config file
// holding a copy of the config, its snaptime, its parent and the
// description; the current config's "parent" names the snapshot it
// descends from. The storage side (lvcreate -s on LVM-thin) is the
// backend's Snapshot, which captures the container's filesystem. The
// handlers only check what PVE checks before forking the worker; every
// other refusal is the task's exit status.

// snapshotCopySkip are the keys __snapshot_copy_config never copies between
// a config and a snapshot (unusedN too).
var snapshotCopySkip = map[string]bool{
	"snapstate": true, "snaptime": true, "vmstate": true, "lock": true, "digest": true, "description": true,
}

// copySnapshotConfig is __snapshot_copy_config: src's values without the
// snapshot metadata, the lock, the description and unused volumes.
func copySnapshotConfig(src, dst map[string]string) {
	for k, v := range src {
		if snapshotCopySkip[k] || unusedKeyRE.MatchString(k) {
			continue
		}
		dst[k] = v
	}
}

// snapshotVolumes lists the storage volumes of a config's rootfs and mount
// points (foreach_volume), in PVE's order.
func snapshotVolumes(values map[string]string) []string {
	var out []string
	for _, k := range volumeKeys(values) {
		if ps, err := parseMountPoint(k, values[k]); err == nil && mountPointType(ps.Value("volume")) == "volume" {
			out = append(out, ps.Value("volume"))
		}
	}
	return out
}

// lvName is the logical volume of an LVM-thin volume id, as lvcreate and
// lvremove name it in their output.
func lvName(volid string) string {
	_, volname, _ := parseVolumeID(volid)
	return path.Base(volname)
}

// errSnapshotUnavailable is has_feature('snapshot') failing in
// __snapshot_prepare.
var errSnapshotUnavailable = errors.New("snapshot feature is not available")

// checkSnapshotFeature is has_feature('snapshot'): every rootfs and mount
// point must be a volume on a storage that snapshots it. LVM-thin does; a
// dir storage only snapshots qcow2 files, and container volumes there are
// raw; bind and device mount points never can.
func (s *Server) checkSnapshotFeature(node string, values map[string]string) error {
	for _, k := range volumeKeys(values) {
		ps, err := parseMountPoint(k, values[k])
		if err != nil {
			return err
		}
		vol := ps.Value("volume")
		if mountPointType(vol) != "volume" {
			return errSnapshotUnavailable
		}
		sid, _, err := parseVolumeID(vol)
		if err != nil {
			return err
		}
		sc, aerr := s.storageOrErr(sid)
		if aerr != nil {
			return aerr
		}
		s.mu.Lock()
		v, ok := s.volumeLocked(node, vol)
		format := ""
		if ok {
			format = v.Format
		}
		s.mu.Unlock()
		if sc.Type != "lvmthin" && (sc.Type != "dir" || format != "qcow2") {
			return errSnapshotUnavailable
		}
	}
	return nil
}

// modifyCT is lock_config around a load, a change and a write_config: fn
// edits a copy of the config, which is written only when fn succeeds.
func (s *Server) modifyCT(ctx context.Context, node string, vmid int, fn func(cfg *ctConfig) error) error {
	unlock, st, err := s.lockAndLoadCT(ctx, node, vmid)
	if err != nil {
		return err
	}
	defer unlock()
	cfg := st.Config.clone()
	if err := fn(cfg); err != nil {
		return err
	}
	s.writeCT(vmid, cfg)
	return nil
}

// releaseLock removes lock from the config when it still holds it, for a
// task that ends (interrupted, or by an injected fault) before it changed
// anything.
func (s *Server) releaseLock(ctx context.Context, node string, vmid int, lock string) {
	err := s.modifyCT(context.WithoutCancel(ctx), node, vmid, func(cfg *ctConfig) error {
		if cfg.lock() == lock {
			delete(cfg.Values, "lock")
		}
		return nil
	})
	if err != nil {
		s.logf("pvesim: CT %d: removing lock %q: %v", vmid, lock, err)
	}
}

// handleSnapshotList is GET .../snapshot: every snapshot, then the
// "current" pseudo entry with the config's digest, running state and parent.
// PVE lists the snapshots in hash order; here they come oldest first.
func (s *Server) handleSnapshotList(q *request) (any, error) {
	st, err := s.loadCT(q.node(), q.vmid())
	if err != nil {
		return nil, err
	}
	names := sortedKeys(st.Config.Snapshots)
	sort.SliceStable(names, func(i, j int) bool {
		return atoiOr(st.Config.Snapshots[names[i]]["snaptime"], 0) < atoiOr(st.Config.Snapshots[names[j]]["snaptime"], 0)
	})
	out := []map[string]any{}
	for _, name := range names {
		snap := st.Config.Snapshots[name]
		item := map[string]any{"name": name, "snaptime": atoiOr(snap["snaptime"], 0), "description": snap["description"]}
		if p, ok := snap["parent"]; ok {
			item["parent"] = p
		}
		if ss := snap["snapstate"]; ss != "" {
			item["snapstate"] = ss
		}
		out = append(out, item)
	}
	current := map[string]any{"name": "current", "digest": st.Digest, "running": 0, "description": "You are here!"}
	if st.Running {
		current["running"] = 1
	}
	if p, ok := st.Config.Values["parent"]; ok {
		current["parent"] = p
	}
	return append(out, current), nil
}

// handleSnapshotCreate is POST .../snapshot: a vzsnapshot task. Only the
// reserved names are refused before the fork.
func (s *Server) handleSnapshotCreate(q *request) (any, error) {
	node, vmid, name := q.node(), q.vmid(), q.str("snapname")
	if name == "current" || name == "vzdump" {
		return nil, errf("unable to use snapshot name '%s' (reserved name)", name)
	}
	description := q.str("description")
	t := s.startTask(node, "vzsnapshot", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		return s.snapshotWorker(ctx, t, node, vmid, name, description)
	})
	return t.upid, nil
}

// snapshotWorker is snapshot_create: prepare (lock "snapshot", section with
// snapstate "prepare"), capture the filesystem, commit (parent, unlock). A
// failed capture removes the half-made snapshot again.
func (s *Server) snapshotWorker(ctx context.Context, t *task, node string, vmid int, name, description string) error {
	var volumes []string
	err := s.modifyCT(ctx, node, vmid, func(cfg *ctConfig) error {
		if err := s.prepareSnapshot(t, node, cfg, name, description); err != nil {
			return err
		}
		volumes = snapshotVolumes(cfg.Values)
		return nil
	})
	if err != nil {
		return err
	}
	err = s.taskWork(ctx, t, s.cfg.taskDuration("vzsnapshot"))
	if err == nil {
		err = s.backendCall(ctx, vmid, func() error { return s.backend.Snapshot(ctx, vmid, name) })
	}
	if err != nil {
		t.log("snapshot create failed: starting cleanup")
		if cerr := s.removeSnapshot(context.WithoutCancel(ctx), t, node, vmid, name, "snapshot", true); cerr != nil {
			t.log("%v", cerr)
		}
		return err
	}
	for _, vol := range volumes {
		t.log("  Logical volume \"snap_%s_%s\" created.", lvName(vol), name)
	}
	return s.modifyCT(ctx, node, vmid, func(cfg *ctConfig) error {
		if cfg.lock() != "snapshot" {
			return errors.New("missing snapshot lock")
		}
		snap, ok := cfg.Snapshots[name]
		if !ok {
			return fmt.Errorf("snapshot '%s' does not exist", name)
		}
		if snap["snapstate"] != "prepare" {
			return errors.New("wrong snapshot state")
		}
		delete(snap, "snapstate")
		delete(cfg.Values, "lock")
		cfg.Values["parent"] = name
		return nil
	})
}

// prepareSnapshot is __snapshot_prepare's checks and changes on cfg.
func (s *Server) prepareSnapshot(t *task, node string, cfg *ctConfig, name, description string) error {
	if cfg.Values["template"] == "1" {
		return errors.New("you can't take a snapshot if it's a template")
	}
	if l := cfg.lock(); l != "" {
		return fmt.Errorf("CT is locked (%s)", l)
	}
	if _, used := cfg.Snapshots[name]; used {
		return fmt.Errorf("snapshot name '%s' already used", name)
	}
	if err := s.checkSnapshotFeature(node, cfg.Values); err != nil {
		return err
	}
	for _, other := range sortedKeys(cfg.Snapshots) {
		if cfg.Snapshots[other]["parent"] == name {
			t.log("deleting parent '%s' reference from '%s' to avoid bogus snapshot cycle.", name, other)
			delete(cfg.Snapshots[other], "parent")
		}
	}
	snap := map[string]string{}
	copySnapshotConfig(cfg.Values, snap)
	snap["snapstate"] = "prepare"
	snap["snaptime"] = strconv.FormatInt(s.now().Unix(), 10)
	if description != "" && description != "0" { // Perl: "if $comment"
		snap["description"] = description
	}
	cfg.Snapshots[name] = snap
	cfg.Values["lock"] = "snapshot"
	return nil
}

// handleSnapshotDelete is DELETE .../snapshot/{snapname}: a vzdelsnapshot task.
func (s *Server) handleSnapshotDelete(q *request) (any, error) {
	node, vmid, name := q.node(), q.vmid(), q.str("snapname")
	force := q.params.Bool("force")
	t := s.startTask(node, "vzdelsnapshot", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		st, aerr := s.loadCT(node, vmid)
		if aerr != nil {
			return errors.New(aerr.Message)
		}
		if _, ok := st.Config.Snapshots[name]; !ok {
			return fmt.Errorf("snapshot '%s' does not exist", name)
		}
		err := s.modifyCT(ctx, node, vmid, func(cfg *ctConfig) error { // set_lock
			if l := cfg.lock(); l != "" {
				return fmt.Errorf("CT is locked (%s)", l)
			}
			cfg.Values["lock"] = "snapshot-delete"
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.taskWork(ctx, t, s.cfg.taskDuration("vzdelsnapshot")); err != nil {
			s.releaseLock(ctx, node, vmid, "snapshot-delete") // nothing was deleted yet
			return err
		}
		return s.removeSnapshot(ctx, t, node, vmid, name, "snapshot-delete", force)
	})
	return t.upid, nil
}

// removeSnapshot is snapshot_delete once the config holds expectedLock
// ("snapshot-delete", or "snapshot" when a failed create cleans up): mark
// the snapshot "delete", discard the captured filesystem (with force a
// failure only warns), then drop the section, re-link parents and unlock.
// Volumes only the snapshot used become unusedN.
func (s *Server) removeSnapshot(ctx context.Context, t *task, node string, vmid int, name, expectedLock string, force bool) error {
	ensureLock := func(cfg *ctConfig) error {
		if cfg.lock() != expectedLock {
			return fmt.Errorf("encountered invalid lock, expected '%s'", expectedLock)
		}
		if _, ok := cfg.Snapshots[name]; !ok {
			return fmt.Errorf("snapshot '%s' does not exist", name)
		}
		return nil
	}
	var volumes []string
	err := s.modifyCT(ctx, node, vmid, func(cfg *ctConfig) error {
		if err := ensureLock(cfg); err != nil {
			return err
		}
		if cfg.Values["template"] == "1" {
			return errors.New("you can't delete a snapshot if vm is a template")
		}
		cfg.Snapshots[name]["snapstate"] = "delete"
		volumes = snapshotVolumes(cfg.Snapshots[name])
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.backendCall(ctx, vmid, func() error { return s.backend.DeleteSnapshot(ctx, vmid, name) }); err != nil {
		if !force {
			return err
		}
		t.log("%v", err)
	} else if expectedLock == "snapshot-delete" {
		for _, vol := range volumes {
			t.log("  Logical volume \"snap_%s_%s\" successfully removed.", lvName(vol), name)
		}
	}
	return s.modifyCT(ctx, node, vmid, func(cfg *ctConfig) error {
		if err := ensureLock(cfg); err != nil {
			return err
		}
		parent, hasParent := cfg.Snapshots[name]["parent"]
		unlinkParent := func(values map[string]string) {
			if values["parent"] != name {
				return
			}
			if hasParent && parent != "" {
				values["parent"] = parent
			} else {
				delete(values, "parent")
			}
		}
		unlinkParent(cfg.Values)
		for other, snap := range cfg.Snapshots {
			if other != name {
				unlinkParent(snap)
			}
		}
		delete(cfg.Snapshots, name)
		delete(cfg.Values, "lock")
		for _, vol := range volumes {
			if !volumeInUse(cfg, vol, "") {
				addUnusedVolume(cfg, vol)
			}
		}
		return nil
	})
}

// handleSnapshotIndex is GET .../snapshot/{snapname}: the sub-commands,
// listed without looking at the container, as PVE does.
func (s *Server) handleSnapshotIndex(*request) (any, error) {
	return []map[string]string{{"cmd": "rollback"}, {"cmd": "config"}}, nil
}

// handleSnapshotRollback is POST .../snapshot/{snapname}/rollback: a
// vzrollback task. With start=1 the worker starts the container through
// the start API afterwards, which forks a vzstart task of its own: the
// rollback task ends without waiting for the start.
func (s *Server) handleSnapshotRollback(q *request) (any, error) {
	node, vmid, name := q.node(), q.vmid(), q.str("snapname")
	start := q.params.Bool("start")
	who := q.who
	t := s.startTask(node, "vzrollback", strconv.Itoa(vmid), who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		if err := s.rollbackWorker(ctx, t, node, vmid, name); err != nil {
			return err
		}
		if start {
			if s.isRunning(vmid) {
				return fmt.Errorf("CT %d already running", vmid)
			}
			s.startTask(node, "vzstart", strconv.Itoa(vmid), who, vmid, false, func(ctx context.Context, t *task) error {
				return s.startContainer(ctx, t, node, vmid)
			})
		}
		return nil
	})
	return t.upid, nil
}

// rollbackWorker is snapshot_rollback: check, stop a running container
// (killed, as PVE's vm_stop does here), lock "rollback", restore the
// filesystem, then replace the config by the snapshot's, keeping the
// description and unused volumes, with "parent" naming the snapshot.
// Volumes the snapshot does not use become unusedN.
func (s *Server) rollbackWorker(ctx context.Context, t *task, node string, vmid int, name string) error {
	var volumes []string
	err := s.modifyCT(ctx, node, vmid, func(cfg *ctConfig) error {
		if cfg.Values["template"] == "1" {
			return errors.New("you can't rollback if vm is a template")
		}
		snap, ok := cfg.Snapshots[name]
		if !ok {
			return fmt.Errorf("snapshot '%s' does not exist", name)
		}
		if ss := snap["snapstate"]; ss != "" {
			return fmt.Errorf("unable to rollback to incomplete snapshot (snapstate = %s)", ss)
		}
		if l := cfg.lock(); l != "" {
			return fmt.Errorf("CT is locked (%s)", l)
		}
		if err := s.stopContainer(ctx, vmid, true, false); err != nil {
			return err
		}
		if s.isRunning(vmid) {
			return fmt.Errorf("unable to rollback vm %d: vm is running", vmid)
		}
		volumes = snapshotVolumes(snap)
		cfg.Values["lock"] = "rollback"
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("vzrollback")); err != nil {
		s.releaseLock(ctx, node, vmid, "rollback") // nothing was rolled back yet
		return err
	}
	if err := s.backendCall(ctx, vmid, func() error { return s.backend.Rollback(ctx, vmid, name) }); err != nil {
		return err
	}
	for _, vol := range volumes {
		t.log("  Logical volume \"%s\" successfully removed.", lvName(vol))
		t.log("  Logical volume \"%s\" created.", lvName(vol))
	}
	var values map[string]string
	err = s.modifyCT(ctx, node, vmid, func(cfg *ctConfig) error {
		if cfg.lock() != "rollback" {
			return errors.New("got wrong lock")
		}
		delete(cfg.Values, "lock")
		snap, ok := cfg.Snapshots[name]
		if !ok {
			return fmt.Errorf("snapshot '%s' does not exist", name)
		}
		for _, vol := range snapshotVolumes(cfg.Values) {
			if !containsString(volumes, vol) {
				addUnusedVolume(cfg, vol)
			}
		}
		restored := map[string]string{}
		for k, v := range cfg.Values {
			if k == "description" || unusedKeyRE.MatchString(k) {
				restored[k] = v
			}
		}
		copySnapshotConfig(snap, restored)
		restored["parent"] = name
		cfg.Values, cfg.Pending, cfg.PendingDelete = restored, map[string]string{}, nil
		values = restored
		return nil
	})
	if err != nil {
		return err
	}
	spec := specFor(vmid, node, values, "")
	if err := s.backendCall(ctx, vmid, func() error { return s.backend.Update(ctx, spec) }); err != nil {
		s.logf("pvesim: CT %d: backend update after rollback: %v", vmid, err)
	}
	return nil
}

// handleSnapshotConfigGet is GET .../snapshot/{snapname}/config: the
// snapshot's section as stored (no digest).
func (s *Server) handleSnapshotConfigGet(q *request) (any, error) {
	st, err := s.loadCT(q.node(), q.vmid())
	if err != nil {
		return nil, err
	}
	snap, ok := st.Config.Snapshots[q.str("snapname")]
	if !ok {
		return nil, errf("snapshot '%s' does not exist", q.str("snapname"))
	}
	out := make(map[string]any, len(snap))
	for k, v := range snap {
		out[k] = jsonValue(k, v)
	}
	return out, nil
}

// handleSnapshotConfigPut is PUT .../snapshot/{snapname}/config: only the
// description can change; without one PVE does nothing at all.
func (s *Server) handleSnapshotConfigPut(q *request) (any, error) {
	if !q.has("description") {
		return nil, nil
	}
	node, vmid, name, description := q.node(), q.vmid(), q.str("snapname"), q.str("description")
	unlock, aerr := s.lockCT(q.ctx, vmid, s.cfg.LockTimeout)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if l := st.Config.lock(); l != "" {
		return nil, ctLockedErr(l)
	}
	cfg := st.Config.clone()
	snap, ok := cfg.Snapshots[name]
	if !ok {
		return nil, errf("snapshot '%s' does not exist", name)
	}
	snap["description"] = description // an empty one is not written, as in PVE
	s.writeCT(vmid, cfg)
	return nil, nil
}

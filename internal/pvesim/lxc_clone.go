package pvesim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// handleClone is POST /nodes/{node}/lxc/{vmid}/clone: linked clones of
// templates by default, full copies otherwise. The source is locked
// "disk" and the target "create" while the vzclone task runs.
func (s *Server) handleClone(q *request) (any, error) {
	node, vmid, newid := q.node(), q.vmid(), q.intOr("newid", 0)
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if l := st.Config.lock(); l != "" {
		return nil, ctLockedErr(l)
	}
	if q.has("snapname") {
		if _, ok := st.Config.Snapshots[q.str("snapname")]; !ok {
			return nil, errf("snapshot '%s' does not exist", q.str("snapname"))
		}
		return nil, errf("pvesim: cloning from snapshot '%s' is not simulated; clone the container's current state instead", q.str("snapname"))
	}
	target := q.str("target")
	if target == node || target == "localhost" {
		target = ""
	}
	if target != "" && !s.isNode(target) {
		return nil, errf("no such cluster node '%s'", target)
	}
	if q.has("pool") {
		return nil, errf("pool '%s' does not exist", q.str("pool"))
	}
	isTemplate := st.Config.Values["template"] == "1"
	full := !isTemplate
	if q.has("full") {
		full = q.params.Bool("full")
	}
	storage := q.str("storage")
	if storage != "" && !full {
		return nil, errf("parameter 'storage' not allowed for linked clones")
	}
	if storage != "" {
		sc, aerr := s.storageOrErr(storage)
		if aerr != nil {
			return nil, aerr
		}
		if !sc.has("rootdir") {
			return nil, errf("storage '%s' does not support container directories", storage)
		}
	}
	if aerr := s.checkCloneVolumes(st, full, target, q.has("snapname")); aerr != nil {
		return nil, aerr
	}
	if err := s.checkVMIDUnused(newid); err != nil {
		return nil, err
	}
	if err := s.setLock(q.ctx, node, vmid, "disk", s.cfg.CreateLockTimeout); err != nil {
		return nil, err
	}
	if err := s.reserveVMID(q.ctx, node, newid); err != nil {
		_ = s.setLock(context.WithoutCancel(q.ctx), node, vmid, "", s.cfg.LockTimeout)
		return nil, err
	}
	opts := cloneOptions{node: node, src: vmid, dst: newid, full: full, storage: storage,
		hostname: q.str("hostname"), description: q.str("description"), hasDescription: q.has("description")}
	t := s.startTask(node, "vzclone", strconv.Itoa(vmid), q.who, newid, q.lockFail, func(ctx context.Context, t *task) error {
		err := s.cloneWorker(ctx, t, opts)
		if err != nil {
			s.rollbackCreate(&createPlan{node: node, vmid: newid}, t)
		}
		if uerr := s.setLock(context.WithoutCancel(ctx), node, vmid, "", s.cfg.LockTimeout); uerr != nil && err == nil {
			err = uerr
		}
		return err
	})
	return t.upid, nil
}

type cloneOptions struct {
	node, storage, hostname, description string
	src, dst                             int
	full, hasDescription                 bool
}

func (s *Server) cloneWorker(ctx context.Context, t *task, o cloneOptions) error {
	st, aerr := s.loadCT(o.node, o.src)
	if aerr != nil {
		return errors.New(aerr.Message)
	}
	conf := map[string]string{}
	for k, v := range st.Config.Values {
		if k == "lock" || k == "template" || k == "parent" || k == "snaptime" || k == "snapstate" || unusedKeyRE.MatchString(k) {
			continue
		}
		conf[k] = v
	}
	for _, k := range volumeKeys(st.Config.Values) {
		ps, err := parseMountPoint(k, st.Config.Values[k])
		if err != nil {
			return err
		}
		vol := ps.Value("volume")
		if mountPointType(vol) != "volume" {
			continue
		}
		s.mu.Lock()
		src, ok := s.volumeLocked(o.node, vol)
		var size int64
		if ok {
			size = src.Size
		}
		s.mu.Unlock()
		if !ok {
			return fmt.Errorf("volume '%s' does not exist", vol)
		}
		var nv *volume
		if o.full {
			storage := o.storage
			if storage == "" {
				storage, _, _ = parseVolumeID(vol)
			}
			t.log("create full clone of mountpoint %s (%s)", k, vol)
			nv, err = s.allocDisk(o.node, storage, o.dst, size)
		} else {
			t.log("create linked clone of mount point %s (%s)", k, vol)
			nv, err = s.allocLinkedClone(o.node, vol, o.dst, size)
		}
		if err != nil {
			return err
		}
		ps.Set("volume", nv.VolID)
		ps.Set("size", pveformat.FormatDiskSize(size))
		conf[k] = canonical(k, ps)
	}
	for k, v := range conf {
		if netKeyRE.MatchString(k) {
			p, _ := schema.ConfigKey(k)
			ps, err := p.ParseValue(v)
			if err != nil {
				return err
			}
			ps.Set("hwaddr", randomHWAddr())
			conf[k] = canonical(k, ps)
		}
	}
	if o.hostname != "" {
		conf["hostname"] = o.hostname
	}
	if o.hasDescription {
		conf["description"] = o.description
	}
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("vzclone")); err != nil {
		return err
	}
	spec := specFor(o.dst, o.node, conf, "")
	if err := s.backendCall(ctx, o.dst, func() error {
		return s.backend.Clone(ctx, o.src, spec, !o.full, func(line string) { t.log("%s", line) })
	}); err != nil {
		return err
	}
	unlock, aerr := s.lockCT(ctx, o.dst, s.cfg.CreateLockTimeout)
	if aerr != nil {
		return errors.New(aerr.Message)
	}
	cfg := newCTConfig()
	cfg.Values = conf
	s.writeCT(o.dst, cfg)
	unlock()
	return nil
}

// allocLinkedClone creates "<storage>:<base volname>/vm-<vmid>-disk-<n>".
func (s *Server) allocLinkedClone(node, base string, vmid int, size int64) (*volume, error) {
	storage, baseName, err := parseVolumeID(base)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	name := s.freeDiskNameLocked(node, storage, vmid)
	volid := storage + ":" + baseName + "/" + name
	v := &volume{Node: node, Storage: storage, VolID: volid, Content: "rootdir", Format: "raw", Size: size,
		VMID: vmid, CTime: s.now().Unix(), Parent: base}
	s.volumes[volumeKey(node, volid)] = v
	s.mu.Unlock()
	s.persist()
	return v, nil
}

// setLock writes (or, with "", clears) a container's persistent config lock.
func (s *Server) setLock(ctx context.Context, node string, vmid int, lock string, timeout time.Duration) *apiError {
	unlock, aerr := s.lockCT(ctx, vmid, timeout)
	if aerr != nil {
		return aerr
	}
	defer unlock()
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return aerr
	}
	cfg := st.Config.clone()
	if lock == "" {
		delete(cfg.Values, "lock")
	} else {
		cfg.Values["lock"] = lock
	}
	s.writeCT(vmid, cfg)
	return nil
}

// handleTemplate is POST /nodes/{node}/lxc/{vmid}/template: returns null
// at once and converts in a background vztemplate task.
func (s *Server) handleTemplate(q *request) (any, error) {
	node, vmid := q.node(), q.vmid()
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if l := st.Config.lock(); l != "" {
		return nil, ctLockedErr(l)
	}
	if len(st.Config.Snapshots) > 0 {
		return nil, errf("unable to create template, because CT contains snapshots")
	}
	if st.Config.Values["template"] == "1" {
		return nil, errf("you can't convert a template to a template")
	}
	if st.Running {
		return nil, errf("you can't convert a CT to template if the CT is running")
	}
	s.startTask(node, "vztemplate", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		return s.templateWorker(ctx, t, node, vmid)
	})
	return nil, nil
}

func (s *Server) templateWorker(ctx context.Context, t *task, node string, vmid int) error {
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("vztemplate")); err != nil {
		return err
	}
	unlock, st, err := s.lockAndLoadCT(ctx, node, vmid)
	if err != nil {
		return err
	}
	defer unlock()
	if st.Running {
		return errors.New("you can't convert a CT to template if the CT is running")
	}
	cfg := st.Config.clone()
	for _, k := range volumeKeys(cfg.Values) {
		ps, err := parseMountPoint(k, cfg.Values[k])
		if err != nil {
			return err
		}
		vol := ps.Value("volume")
		if mountPointType(vol) != "volume" {
			continue
		}
		newVol, err := s.renameToBase(node, vol)
		if err != nil {
			return err
		}
		_, oldName, _ := parseVolumeID(vol)
		_, newName, _ := parseVolumeID(newVol)
		t.log("  Renamed \"%s\" to \"%s\" in volume group \"pve\"", oldName, newName)
		ps.Set("volume", newVol)
		cfg.Values[k] = canonical(k, ps)
	}
	if err := s.backendCall(ctx, vmid, func() error { return s.backend.Template(ctx, vmid) }); err != nil {
		return err
	}
	cfg.Values["template"] = "1"
	s.writeCT(vmid, cfg)
	return nil
}

// checkCloneVolumes refuses what PVE's clone refuses about the source's
// volumes before it starts a task: a full copy of a running container
// (unless from a snapshot), a linked clone of a volume that cannot have
// one (a container that is not a template, or a directory storage, whose
// linked clones would be qcow2 images a container cannot use), and a
// clone to another node of a container on storage that is not shared.
func (s *Server) checkCloneVolumes(st ctState, full bool, target string, fromSnapshot bool) *apiError {
	isTemplate := st.Config.Values["template"] == "1"
	for _, k := range volumeKeys(st.Config.Values) {
		ps, err := parseMountPoint(k, st.Config.Values[k])
		if err != nil || mountPointType(ps.Value("volume")) != "volume" {
			continue
		}
		vol := ps.Value("volume")
		storage, _, _ := parseVolumeID(vol)
		sc, _ := s.storage(storage)
		switch {
		case full && st.Running && !fromSnapshot:
			return errf("Full clone of a running container is only possible from a snapshot")
		case !full && (!isTemplate || sc.Type == "dir"):
			return errf("Linked clone feature for '%s' is not available", vol)
		case target != "":
			// Every simulated storage is local to its node.
			return errf("can't clone CT to node '%s' (CT uses local storage)", target)
		}
	}
	return nil
}

// renameToBase turns vm-<id>-disk-<n> into base-<id>-disk-<n>.
func (s *Server) renameToBase(node, volid string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.volumeLocked(node, volid)
	if !ok {
		return "", fmt.Errorf("volume '%s' does not exist", volid)
	}
	if !strings.Contains(volid, "vm-") {
		return volid, nil
	}
	i := strings.LastIndex(volid, "vm-")
	newID := volid[:i] + "base-" + volid[i+len("vm-"):]
	delete(s.volumes, volumeKey(node, volid))
	nv := *v
	nv.VolID = newID
	s.volumes[volumeKey(node, newID)] = &nv
	return newID, nil
}

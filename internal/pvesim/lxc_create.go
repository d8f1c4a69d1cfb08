package pvesim

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// createOnlyParams are create parameters that are not config keys.
var createOnlyParams = map[string]bool{
	"node": true, "vmid": true, "ostemplate": true, "storage": true, "password": true, "ssh-public-keys": true,
	"start": true, "force": true, "restore": true, "unique": true, "ignore-unpack-errors": true, "pool": true,
	"bwlimit": true, "ha-managed": true, "unprivileged": true,
}

// createPlan is what the synchronous part of a create hands its worker.
type createPlan struct {
	node         string
	vmid         int
	ostemplate   string // volid
	templateFile string // file name inside template/cache
	values       map[string]string
	mounts       map[string]pveformat.PropertyString // rootfs/mpN to allocate
	unprivileged bool
	start        bool
}

// handleCreate is POST /nodes/{node}/lxc: synchronous checks, the config
// written with "lock: create", then a vzcreate task.
func (s *Server) handleCreate(q *request) (any, error) {
	node, vmid := q.node(), q.vmid()
	if q.params.Bool("restore") {
		return nil, errf("restoring backups is not simulated")
	}
	unprivileged := !q.has("unprivileged") || q.params.Bool("unprivileged")
	storage := q.str("storage")
	if storage == "" {
		storage = "local"
	}
	plan := &createPlan{node: node, vmid: vmid, values: map[string]string{}, mounts: map[string]pveformat.PropertyString{},
		unprivileged: unprivileged, start: q.params.Bool("start")}
	mountValues := map[string]string{}
	for k, v := range q.params {
		switch {
		case createOnlyParams[k]:
		case isVolumeKey(k):
			if newDiskRE.MatchString(v) && !strings.Contains(v, ":") {
				v = storage + ":" + v
			}
			mountValues[k] = v
		case unusedKeyRE.MatchString(k):
			// PVE warns "ignoring 'unusedN', cannot create/restore with unused volume".
		default:
			plan.values[k] = v
		}
	}
	configSet := map[string]string{}
	for k, v := range plan.values {
		configSet[k] = v
	}
	for k, v := range mountValues {
		configSet[k] = v
	}
	if err := checkRootOnly(q.who, configSet, nil, nil, unprivileged); err != nil {
		return nil, err
	}
	if q.has("pool") {
		return nil, errf("pool '%s' does not exist", q.str("pool"))
	}
	if err := s.checkOstemplate(q, plan); err != nil {
		return nil, err
	}
	if len(mountValues) > 0 && mountValues["rootfs"] == "" {
		return nil, errf("mount points configured, but 'rootfs' not set - aborting")
	}
	for _, k := range sortedKeys(mountValues) {
		ps, err := parseMountPoint(k, mountValues[k])
		if err != nil {
			return nil, paramErr1(k, "invalid format - "+err.Error())
		}
		vol := ps.Value("volume")
		if mountPointType(vol) != "volume" {
			if !q.who.isRootPam() {
				return nil, errf("Only root can pass arbitrary filesystem paths.")
			}
			plan.mounts[k] = ps
			continue
		}
		sid, _, err := parseVolumeID(vol)
		if err != nil {
			return nil, errf("%v", err)
		}
		if err := s.checkRootdirStorage(sid); err != nil {
			return nil, err
		}
		if !newDiskRE.MatchString(vol) {
			s.mu.Lock()
			_, exists := s.volumeLocked(node, vol)
			s.mu.Unlock()
			if !exists {
				return nil, errf("volume '%s' does not exist", vol)
			}
		}
		plan.mounts[k] = ps
	}
	if _, ok := mountValues["rootfs"]; !ok {
		if err := s.checkRootdirStorage(storage); err != nil {
			return nil, err
		}
		ps, _ := parseMountPoint("rootfs", storage+":4")
		plan.mounts["rootfs"] = ps
	}
	if v, ok := plan.values["tags"]; ok {
		plan.values["tags"] = pveformat.JoinTags(pveformat.NormalizeTags(pveformat.SplitTags(v)))
	}

	if err := s.reserveVMID(q.ctx, node, vmid); err != nil {
		return nil, err
	}
	t := s.startTask(node, "vzcreate", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		err := s.createWorker(ctx, t, plan)
		if err == nil {
			return nil
		}
		var startErr *startAfterCreateError
		if errors.As(err, &startErr) {
			return startErr.err // the container exists; only starting it failed
		}
		s.rollbackCreate(plan, t)
		var injected *injectedTaskError
		if errors.As(err, &injected) || errors.Is(err, errInterrupted) {
			return err
		}
		return fmt.Errorf("unable to create CT %d - %w", vmid, err)
	})
	return t.upid, nil
}

// checkOstemplate validates the ostemplate volume id synchronously.
func (s *Server) checkOstemplate(q *request, plan *createPlan) error {
	ost := q.str("ostemplate")
	if strings.HasPrefix(ost, "/") {
		if !q.who.isRootPam() {
			return errf("Only root can pass arbitrary filesystem paths.")
		}
		plan.ostemplate = ost
		plan.templateFile = filepath.Base(ost)
		return nil
	}
	if ost == "-" {
		return errf("pipe requires cli environment")
	}
	sid, volname, err := parseVolumeID(ost)
	if err != nil {
		return errf("%v", err)
	}
	if _, aerr := s.storageOrErr(sid); aerr != nil {
		return aerr
	}
	m := vztmplVolnameRE.FindStringSubmatch(volname)
	if m == nil {
		if strings.HasPrefix(volname, "iso/") || strings.HasPrefix(volname, "snippets/") || strings.HasPrefix(volname, "dump/") || strings.HasPrefix(volname, "images/") || newDiskRE.MatchString(volname) || strings.HasPrefix(volname, "vm-") || strings.HasPrefix(volname, "base-") {
			return errf("unable to use volume %s - content type needs to be 'vztmpl'", ost)
		}
		return errf("unable to parse directory volume name '%s'", volname)
	}
	if templateFormat(m[1]) == "" {
		return errf("unable to parse directory volume name '%s'", volname)
	}
	plan.ostemplate = ost
	plan.templateFile = m[1]
	return nil
}

// checkRootdirStorage is the create's storage check (400 on "storage").
func (s *Server) checkRootdirStorage(id string) *apiError {
	sc, err := s.storageOrErr(id)
	if err != nil {
		return err
	}
	if !sc.has("rootdir") {
		return paramErr1("storage", fmt.Sprintf("storage '%s' does not support container directories", id))
	}
	return nil
}

// reserveVMID takes the config lock and writes "lock: create" for a VMID
// nobody uses yet, cluster-wide.
func (s *Server) reserveVMID(ctx context.Context, node string, vmid int) *apiError {
	if err := s.checkVMIDUnused(vmid); err != nil {
		return err
	}
	unlock, aerr := s.lockCT(ctx, vmid, s.cfg.CreateLockTimeout)
	if aerr != nil {
		return aerr
	}
	defer unlock()
	s.mu.Lock()
	if c, used := s.containers[vmid]; used {
		s.mu.Unlock()
		return errf("CT %d already exists on node '%s'", vmid, c.Node)
	}
	cfg := newCTConfig()
	cfg.Values["lock"] = "create"
	s.containers[vmid] = &container{VMID: vmid, Node: node, Text: cfg.text()}
	s.mu.Unlock()
	s.persist()
	return nil
}

func (s *Server) checkVMIDUnused(vmid int) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, used := s.containers[vmid]; used {
		return errf("CT %d already exists on node '%s'", vmid, c.Node)
	}
	return nil
}

// createWorker allocates the volumes, "extracts" the template through the
// backend and writes the final config.
func (s *Server) createWorker(ctx context.Context, t *task, plan *createPlan) error {
	conf := map[string]string{}
	for k, v := range plan.values {
		conf[k] = v
	}
	for _, k := range volumeKeys(mountsAsValues(plan.mounts)) {
		ps := plan.mounts[k]
		vol := ps.Value("volume")
		if m := newDiskRE.FindStringSubmatch(vol); m != nil {
			v, size, err := s.allocNewDisk(t, plan.node, m[1], plan.vmid, m[2])
			if err != nil {
				return err
			}
			s.logVolumeCreated(t, v)
			ps.Set("volume", v.VolID)
			ps.Set("size", pveformat.FormatDiskSize(size))
		} else if size, ok := s.volumeSize(plan.node, vol); ok {
			// An existing volume's size is what the storage says, not a
			// size= the request carried.
			ps.Set("size", pveformat.FormatDiskSize(size))
		}
		if k == "rootfs" {
			ps.Delete("mp")
		}
		conf[k] = canonical(k, ps)
	}
	// The template volume must exist; PVE finds out after allocating the disks.
	imagePath := plan.ostemplate
	if !strings.HasPrefix(plan.ostemplate, "/") {
		s.mu.Lock()
		v, ok := s.volumeLocked(plan.node, plan.ostemplate)
		if ok {
			imagePath = filepath.Join(s.nodeFS(plan.node), v.File)
		}
		s.mu.Unlock()
		if !ok {
			return fmt.Errorf("can't find file '%s'", plan.ostemplate)
		}
		sc, _ := s.storage(v.Storage)
		t.log("extracting archive '%s'", contentFile{sc: sc, content: "vztmpl", file: plan.templateFile}.nodePath())
	} else {
		return fmt.Errorf("can't find file '%s'", plan.ostemplate)
	}
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("vzcreate")); err != nil {
		return err
	}
	t.log("Total bytes read: 536688640 (512MiB, 301MiB/s)")
	for _, k := range sortedKeys(conf) {
		if netKeyRE.MatchString(k) {
			v, err := canonicalNet(k, conf[k])
			if err != nil {
				return err
			}
			conf[k] = v
		}
	}
	osName, _, _ := strings.Cut(plan.templateFile, "-")
	if conf["ostype"] == "" {
		conf["ostype"] = ostypeFor(osName)
	}
	if conf["arch"] == "" {
		conf["arch"] = archFor(plan.templateFile)
	}
	t.log("Detected container architecture: %s", conf["arch"])
	if conf["hostname"] == "" {
		conf["hostname"] = fmt.Sprintf("CT%d", plan.vmid)
	}
	if conf["memory"] == "" {
		conf["memory"] = "512"
	}
	if _, ok := conf["swap"]; !ok {
		conf["swap"] = "512"
	}
	if plan.unprivileged {
		conf["unprivileged"] = "1"
	}
	spec := specFor(plan.vmid, plan.node, conf, imagePath)
	if err := s.backendCall(ctx, plan.vmid, func() error {
		return s.backend.Create(ctx, spec, func(line string) { t.log("%s", line) })
	}); err != nil {
		return err
	}
	t.log("Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...")
	t.log("done: SHA256:%s root@%s", strings.ReplaceAll(randomUUID(), "-", ""), conf["hostname"])
	cfg := newCTConfig()
	cfg.Values = conf
	unlock, aerr := s.lockCT(ctx, plan.vmid, s.cfg.CreateLockTimeout)
	if aerr != nil {
		return errors.New(aerr.Message)
	}
	s.writeCT(plan.vmid, cfg)
	unlock()
	if plan.start {
		if err := s.startContainer(ctx, t, plan.node, plan.vmid); err != nil {
			return &startAfterCreateError{err: err}
		}
	}
	return nil
}

// startAfterCreateError is a failed start=1: PVE keeps the new container.
type startAfterCreateError struct{ err error }

func (e *startAfterCreateError) Error() string { return e.err.Error() }
func (e *startAfterCreateError) Unwrap() error { return e.err }

func mountsAsValues(m map[string]pveformat.PropertyString) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = ""
	}
	return out
}

func (s *Server) logVolumeCreated(t taskLog, v *volume) {
	_, volname, _ := parseVolumeID(v.VolID)
	t.log("  Logical volume \"%s\" created.", volname)
	t.log("Creating filesystem with %d 4k blocks and %d inodes", v.Size/4096, v.Size/16384)
}

// rollbackCreate removes what a failed create made: volumes, backend
// container, config (the VMID is free again).
func (s *Server) rollbackCreate(plan *createPlan, t *task) {
	ctx := context.Background()
	s.mu.Lock()
	var vols []string
	for _, v := range s.volumes {
		if v.Node == plan.node && v.VMID == plan.vmid && v.Content != "vztmpl" {
			vols = append(vols, v.VolID)
		}
	}
	s.mu.Unlock()
	for _, vol := range vols {
		if err := s.freeVolume(plan.node, vol); err == nil {
			_, volname, _ := parseVolumeID(vol)
			t.log("  Logical volume \"%s\" successfully removed.", volname)
		}
	}
	_ = s.backendCall(ctx, plan.vmid, func() error { return s.backend.Destroy(ctx, plan.vmid) })
	s.removeCT(plan.vmid)
}

// ostypeFor maps a template's distribution to PVE's ostype.
func ostypeFor(distro string) string {
	switch distro {
	case "debian", "ubuntu", "alpine", "fedora", "archlinux", "devuan", "gentoo", "nixos", "opensuse":
		return distro
	case "centos", "rockylinux", "almalinux", "oracle", "rhel":
		return "centos"
	}
	return "unmanaged"
}

// archFor reads the architecture from a template name ("…_amd64.tar.zst").
func archFor(file string) string {
	for _, a := range []string{"arm64", "armhf", "i386", "riscv64", "riscv32"} {
		if strings.Contains(file, "_"+a+".") {
			return a
		}
	}
	return "amd64"
}

package pvesim

import (
	"context"
	"fmt"
	"strconv"
)

// handleDestroy is DELETE /nodes/{node}/lxc/{vmid}: a vzdestroy task that
// marks the config "lock: destroyed", removes the volumes and deletes the
// config last.
func (s *Server) handleDestroy(q *request) (any, error) {
	node, vmid := q.node(), q.vmid()
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if st.Config.Values["protection"] == "1" {
		return nil, errf("can't remove CT %d - protection mode enabled", vmid)
	}
	force := q.params.Bool("force")
	if st.Running && !force {
		return nil, errf("unable to destroy CT %d - container is running", vmid)
	}
	if l := st.Config.lock(); l != "" {
		return nil, ctLockedErr(l)
	}
	purge := q.params.Bool("purge")
	unreferenced := q.params.Bool("destroy-unreferenced-disks")
	t := s.startTask(node, "vzdestroy", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		return s.destroyWorker(ctx, t, node, vmid, force, purge, unreferenced)
	})
	return t.upid, nil
}

func (s *Server) destroyWorker(ctx context.Context, t *task, node string, vmid int, force, purge, unreferenced bool) error {
	unlock, st, err := s.lockAndLoadCT(ctx, node, vmid)
	if err != nil {
		return err
	}
	defer unlock()
	if l := st.Config.lock(); l != "" {
		return fmt.Errorf("CT is locked (%s)", l)
	}
	if st.Running {
		if !force {
			return fmt.Errorf("unable to destroy CT %d - container is running", vmid)
		}
		if err := s.stopContainer(ctx, vmid, true, false); err != nil {
			return err
		}
	}
	vols := configVolumes(st.Config)
	if unreferenced {
		s.mu.Lock()
		for _, v := range s.volumes {
			if v.Node == node && v.VMID == vmid && v.Content != "vztmpl" && !containsString(vols, v.VolID) {
				vols = append(vols, v.VolID)
			}
		}
		s.mu.Unlock()
	}
	if err := s.checkNoLinkedClones(node, vols); err != nil {
		return err
	}
	cfg := st.Config.clone()
	cfg.Values["lock"] = "destroyed"
	s.writeCT(vmid, cfg)
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("vzdestroy")); err != nil {
		delete(cfg.Values, "lock")
		s.writeCT(vmid, cfg)
		return err
	}
	for _, vol := range vols {
		if err := s.freeVolume(node, vol); err != nil {
			return err
		}
		_, volname, _ := parseVolumeID(vol)
		t.log("  Logical volume \"%s\" successfully removed.", volname)
	}
	if err := s.backendCall(ctx, vmid, func() error { return s.backend.Destroy(ctx, vmid) }); err != nil {
		return err
	}
	if purge {
		t.log("purging CT %d from related configurations..", vmid)
	}
	s.removeCT(vmid)
	return nil
}

// checkNoLinkedClones refuses to free base volumes linked clones still use.
func (s *Server) checkNoLinkedClones(node string, vols []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, vol := range vols {
		for _, other := range s.volumes {
			if other.Node == node && other.Parent == vol {
				_, volname, _ := parseVolumeID(vol)
				return fmt.Errorf("base volume '%s' is still in use by linked clones", volname)
			}
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

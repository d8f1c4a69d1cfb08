package pvesim

import (
	"context"
	"errors"
	"io"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
)

// nodeHost is what a node's SSH server sees of the cluster: the containers
// whose config lives on that node, and exec through the backend.
type nodeHost struct {
	s    *Server
	node string
}

func (h *nodeHost) Container(vmid int) (sshnode.Container, bool) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	c, ok := h.s.containers[vmid]
	if !ok || c.Node != h.node {
		return sshnode.Container{}, false
	}
	return h.s.sshContainerLocked(vmid), true
}

func (h *nodeHost) Containers() []sshnode.Container {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	var out []sshnode.Container
	for _, vmid := range sortedInts(h.s.containers) {
		if h.s.containers[vmid].Node == h.node {
			out = append(out, h.s.sshContainerLocked(vmid))
		}
	}
	return out
}

func (s *Server) sshContainerLocked(vmid int) sshnode.Container {
	st, err := s.stateLocked(vmid)
	if err != nil {
		return sshnode.Container{VMID: vmid, Status: "stopped"}
	}
	status := "stopped"
	if st.Running {
		status = "running"
	}
	return sshnode.Container{VMID: vmid, Status: status, Lock: st.Config.lock(), Name: st.name()}
}

// Exec runs argv in a running container of this node through the backend.
func (h *nodeHost) Exec(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c, ok := h.Container(vmid)
	if !ok {
		return -1, configMissingErr(h.node, vmid)
	}
	if c.Status != "running" {
		return -1, errf("container '%d' not running!", vmid)
	}
	return h.s.backend.Exec(ctx, vmid, argv, stdin, stdout, stderr)
}

// Unlock removes a container's persistent config lock under its file
// lock, like PVE's remove_lock (what pct unlock runs).
func (h *nodeHost) Unlock(ctx context.Context, vmid int) error {
	unlock, aerr := h.s.lockCT(ctx, vmid, h.s.cfg.LockTimeout)
	if aerr != nil {
		return errors.New(aerr.Message)
	}
	defer unlock()
	st, aerr := h.s.loadCT(h.node, vmid)
	if aerr != nil {
		return errors.New(aerr.Message)
	}
	if st.Config.lock() == "" {
		return errors.New("no lock found trying to remove any lock")
	}
	cfg := st.Config.clone()
	delete(cfg.Values, "lock")
	h.s.writeCT(vmid, cfg)
	return nil
}

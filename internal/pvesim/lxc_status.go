package pvesim

import (
	"context"
	"errors"
	"strconv"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// handleLXCList is GET /nodes/{node}/lxc.
func (s *Server) handleLXCList(q *request) (any, error) {
	out := []map[string]any{}
	now := s.now()
	for _, st := range s.containerStates() {
		if st.Node == q.node() {
			out = append(out, st.vmstatus(now))
		}
	}
	return out, nil
}

// handleLXCIndex is GET /nodes/{node}/lxc/{vmid}.
func (s *Server) handleLXCIndex(q *request) (any, error) {
	if _, err := s.loadCT(q.node(), q.vmid()); err != nil {
		return nil, err
	}
	out := []map[string]string{}
	for _, sub := range []string{"config", "pending", "status", "vncproxy", "termproxy", "vncwebsocket", "spiceproxy",
		"migrate", "clone", "rrd", "rrddata", "firewall", "snapshot", "resize", "interfaces"} {
		out = append(out, map[string]string{"subdir": sub})
	}
	return out, nil
}

// handleStatusIndex is GET /nodes/{node}/lxc/{vmid}/status.
func (s *Server) handleStatusIndex(q *request) (any, error) {
	if _, err := s.loadCT(q.node(), q.vmid()); err != nil {
		return nil, err
	}
	out := []map[string]string{}
	for _, sub := range []string{"current", "start", "stop", "shutdown", "reboot", "suspend", "resume"} {
		out = append(out, map[string]string{"subcmd": sub})
	}
	return out, nil
}

// handleStatusCurrent is GET /nodes/{node}/lxc/{vmid}/status/current.
func (s *Server) handleStatusCurrent(q *request) (any, error) {
	st, err := s.loadCT(q.node(), q.vmid())
	if err != nil {
		return nil, err
	}
	d := st.vmstatus(s.now())
	d["ha"] = map[string]any{"managed": 0}
	if st.Running {
		for _, k := range []string{"pressurecpusome", "pressurecpufull", "pressureiosome", "pressureiofull", "pressurememorysome", "pressurememoryfull"} {
			d[k] = 0
		}
	}
	return d, nil
}

// checkSkiplock is PVE's "Only root may use this option." for skiplock.
func checkSkiplock(q *request) (bool, error) {
	skip := q.params.Bool("skiplock")
	if skip && !q.who.isRootPam() {
		return false, paramErr1("skiplock", "Only root may use this option.")
	}
	return skip, nil
}

// handleStart is POST .../status/start.
func (s *Server) handleStart(q *request) (any, error) {
	node, vmid := q.node(), q.vmid()
	skiplock, err := checkSkiplock(q)
	if err != nil {
		return nil, err
	}
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if st.Running {
		return nil, errf("CT %d already running", vmid)
	}
	if l := st.Config.lock(); l != "" && !skiplock {
		return nil, ctLockedErr(l)
	}
	t := s.startTask(node, "vzstart", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		return s.startContainer(ctx, t, node, vmid)
	})
	return t.upid, nil
}

// startContainer applies pending changes and boots the container (the
// body of vzstart, also used by create with start=1).
func (s *Server) startContainer(ctx context.Context, t *task, node string, vmid int) error {
	unlock, st, err := s.lockAndLoadCT(ctx, node, vmid)
	if err != nil {
		return err
	}
	defer unlock()
	if st.Config.Values["template"] == "1" {
		return errors.New("you can't start a CT if it's a template")
	}
	if st.Running {
		return errors.New("CT " + strconv.Itoa(vmid) + " already running")
	}
	cfg := st.Config.clone()
	if len(cfg.Pending) > 0 || len(cfg.PendingDelete) > 0 {
		errs := map[string]string{}
		s.applyPending(node, vmid, cfg, nil, errs)
		for k, e := range errs {
			t.warn("%s: %s", k, e)
		}
		s.writeCT(vmid, cfg)
	}
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("vzstart")); err != nil {
		return err
	}
	spec := specFor(vmid, node, cfg.Values, "")
	if err := s.backendCall(ctx, vmid, func() error {
		if err := s.backend.Update(ctx, spec); err != nil {
			return err
		}
		return s.backend.Start(ctx, vmid)
	}); err != nil {
		return errors.New("startup for container '" + strconv.Itoa(vmid) + "' failed: " + err.Error())
	}
	s.setRunning(vmid, true)
	return nil
}

// handleStop is POST .../status/stop.
func (s *Server) handleStop(q *request) (any, error) {
	return s.stopLike(q, "vzstop", true)
}

// handleShutdown is POST .../status/shutdown.
func (s *Server) handleShutdown(q *request) (any, error) {
	return s.stopLike(q, "vzshutdown", false)
}

func (s *Server) stopLike(q *request, typ string, force bool) (any, error) {
	node, vmid := q.node(), q.vmid()
	skiplock := false
	if typ == "vzstop" {
		var err error
		if skiplock, err = checkSkiplock(q); err != nil {
			return nil, err
		}
	}
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if !st.Running {
		return nil, errf("CT %d not running", vmid)
	}
	if l := st.Config.lock(); l != "" && !skiplock {
		return nil, ctLockedErr(l)
	}
	forceStop := q.params.Bool("forceStop")
	t := s.startTask(node, typ, strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		unlock, aerr := s.lockCT(ctx, vmid, s.cfg.LockTimeout)
		if aerr != nil {
			return errors.New(aerr.Message)
		}
		defer unlock()
		if err := s.taskWork(ctx, t, s.cfg.taskDuration(typ)); err != nil {
			return err
		}
		return s.stopContainer(ctx, vmid, force, forceStop)
	})
	return t.upid, nil
}

// stopContainer halts a running container; a failed clean shutdown is
// followed by a kill when forceStop is set.
func (s *Server) stopContainer(ctx context.Context, vmid int, force, forceStop bool) error {
	if !s.isRunning(vmid) {
		return nil
	}
	err := s.backendCall(ctx, vmid, func() error { return s.backend.Stop(ctx, vmid, force) })
	if err != nil && !force && forceStop {
		err = s.backendCall(ctx, vmid, func() error { return s.backend.Stop(ctx, vmid, true) })
	}
	if err != nil {
		return err
	}
	s.setRunning(vmid, false)
	return nil
}

// handleReboot is POST .../status/reboot.
func (s *Server) handleReboot(q *request) (any, error) {
	node, vmid := q.node(), q.vmid()
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if !st.Running {
		return nil, errf("VM %d not running", vmid)
	}
	if l := st.Config.lock(); l != "" {
		return nil, ctLockedErr(l)
	}
	t := s.startTask(node, "vzreboot", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		if err := s.stopContainer(ctx, vmid, false, true); err != nil {
			return err
		}
		return s.startContainer(ctx, t, node, vmid)
	})
	return t.upid, nil
}

// handleInterfaces is GET .../interfaces: null when stopped.
func (s *Server) handleInterfaces(q *request) (any, error) {
	st, aerr := s.loadCT(q.node(), q.vmid())
	if aerr != nil {
		return nil, aerr
	}
	if !st.Running {
		return nil, nil
	}
	ifaces, err := s.backend.Interfaces(q.ctx, q.vmid())
	if err != nil {
		return nil, errf("%v", err)
	}
	out := []map[string]any{}
	for _, i := range ifaces {
		out = append(out, interfaceJSON(i))
	}
	return out, nil
}

// interfaceJSON is one entry of GET .../interfaces as PVE's get_interfaces
// writes it: every address in "ip-addresses"; "inet" and "inet6" hold the
// last address of their family (get_interfaces overwrites them address by
// address, so on an interface with a global IPv6 address "inet6" is its
// link-local one), and are absent when the family has none; "hwaddr" and
// "hardware-address" are both the MAC.
func interfaceJSON(i backend.Interface) map[string]any {
	e := map[string]any{"name": i.Name, "hwaddr": i.HWAddr, "hardware-address": i.HWAddr}
	addrs := make([]map[string]any, 0, len(i.Addresses))
	for _, a := range i.Addresses {
		family := "inet6"
		if a.Addr().Is4() {
			family = "inet"
		}
		e[family] = a.String()
		addrs = append(addrs, map[string]any{"ip-address": a.Addr().String(), "ip-address-type": family, "prefix": a.Bits()})
	}
	e["ip-addresses"] = addrs
	return e
}

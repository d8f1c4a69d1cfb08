package pvesim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// What a running simulated container uses, for status fields.
const (
	ctMemUsed = 48 * pveformat.MiB
)

// ctState is a snapshot of one container for read-only use.
type ctState struct {
	VMID      int
	Node      string
	Config    *ctConfig
	Digest    string
	Running   bool
	StartedAt time.Time
}

// containerStates lists every container, sorted by VMID.
func (s *Server) containerStates() []ctState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ctState, 0, len(s.containers))
	for _, vmid := range sortedInts(s.containers) {
		if st, err := s.stateLocked(vmid); err == nil {
			out = append(out, st)
		}
	}
	return out
}

func (s *Server) stateLocked(vmid int) (ctState, error) {
	c, ok := s.containers[vmid]
	if !ok {
		return ctState{}, fmt.Errorf("CT %d does not exist", vmid)
	}
	cfg, err := parseCTConfig(c.Text)
	if err != nil {
		return ctState{}, err
	}
	return ctState{VMID: vmid, Node: c.Node, Config: cfg, Digest: configDigest(c.Text), Running: c.Running, StartedAt: c.StartedAt}, nil
}

// loadCT is PVE's load_config for a request addressed to node: the config
// must exist on that node.
func (s *Server) loadCT(node string, vmid int) (ctState, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[vmid]
	if !ok || c.Node != node {
		return ctState{}, configMissingErr(node, vmid)
	}
	st, err := s.stateLocked(vmid)
	if err != nil {
		return ctState{}, errf("%v", err)
	}
	return st, nil
}

// writeCT replaces a container's config file and persists the state.
func (s *Server) writeCT(vmid int, cfg *ctConfig) {
	s.mu.Lock()
	if c, ok := s.containers[vmid]; ok {
		c.Text = cfg.text()
	}
	s.mu.Unlock()
	s.persist()
}

// setRunning records a container's run state.
func (s *Server) setRunning(vmid int, running bool) {
	s.mu.Lock()
	if c, ok := s.containers[vmid]; ok {
		c.Running = running
		if running {
			c.StartedAt = s.now()
		}
	}
	s.mu.Unlock()
	s.persist()
}

// removeCT deletes a container's config.
func (s *Server) removeCT(vmid int) {
	s.mu.Lock()
	delete(s.containers, vmid)
	s.mu.Unlock()
	s.persist()
}

func (s *Server) isRunning(vmid int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[vmid]
	return ok && c.Running
}

// lockCT takes a container's config lock for a request or task.
func (s *Server) lockCT(ctx context.Context, vmid int, timeout time.Duration) (func(), *apiError) {
	unlock, err := s.locks.lock(ctx, vmid, timeout)
	if err != nil {
		return nil, errf("%s", err.Error())
	}
	return unlock, nil
}

// lockAndLoadCT is how a task worker starts on a container: take its
// config lock (PVE's flock, with the normal timeout), then load its config.
// Failures come back as the task's error text.
func (s *Server) lockAndLoadCT(ctx context.Context, node string, vmid int) (unlock func(), st ctState, err error) {
	unlock, aerr := s.lockCT(ctx, vmid, s.cfg.LockTimeout)
	if aerr != nil {
		return nil, ctState{}, errors.New(aerr.Message)
	}
	st, aerr = s.loadCT(node, vmid)
	if aerr != nil {
		unlock()
		return nil, ctState{}, errors.New(aerr.Message)
	}
	return unlock, st, nil
}

// backendCall serialises lifecycle calls to the backend per container.
func (s *Server) backendCall(ctx context.Context, vmid int, fn func() error) error {
	unlock, err := s.backendLocks.lock(context.WithoutCancel(ctx), vmid, time.Hour)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// name is the status "name": the hostname without whitespace, or CT<vmid>.
func (st ctState) name() string {
	name := st.Config.Values["hostname"]
	if name == "" {
		name = fmt.Sprintf("CT%d", st.VMID)
	}
	return strings.Join(strings.Fields(name), "")
}

// vmstatus is the status record of /nodes/{node}/lxc and status/current.
func (st ctState) vmstatus(now time.Time) map[string]any {
	v := st.Config.Values
	d := map[string]any{
		"vmid": st.VMID, "name": st.name(), "type": "lxc", "status": "stopped",
		"uptime": 0, "cpu": 0, "mem": 0, "swap": 0, "disk": 0,
		"netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
	}
	cpus := atoiOr(v["cores"], 0)
	if cpus == 0 {
		if f, err := strconv.ParseFloat(v["cpulimit"], 64); err == nil && f > 0 {
			d["cpus"] = f
		}
	} else {
		d["cpus"] = cpus
	}
	if _, ok := d["cpus"]; !ok {
		d["cpus"] = nodeCPUs
	}
	d["maxmem"] = int64(atoiOr(v["memory"], 512)) * pveformat.MiB
	d["maxswap"] = int64(atoiOr(v["swap"], 0)) * pveformat.MiB
	d["maxdisk"] = rootfsSize(v["rootfs"])
	if t := v["tags"]; t != "" {
		d["tags"] = t
	}
	if l := v["lock"]; l != "" {
		d["lock"] = l
	}
	if v["template"] == "1" {
		d["template"] = 1
	}
	if st.Running {
		d["status"] = "running"
		d["uptime"] = int64(now.Sub(st.StartedAt).Seconds())
		d["pid"] = 100000 + st.VMID
		d["cpu"] = 0.0021
		d["mem"] = ctMemUsed
		d["disk"] = rootfsSize(v["rootfs"]) / 10
		d["netin"] = 1234
		d["netout"] = 567
	}
	return d
}

// resourceJSON is the container's /cluster/resources entry.
func (st ctState) resourceJSON(now time.Time) map[string]any {
	d := st.vmstatus(now)
	out := map[string]any{
		"id": fmt.Sprintf("lxc/%d", st.VMID), "type": "lxc", "vmid": st.VMID, "node": st.Node, "name": d["name"],
		"status": d["status"], "template": 0, "maxmem": d["maxmem"], "mem": d["mem"], "maxdisk": d["maxdisk"],
		"disk": d["disk"], "cpu": d["cpu"], "maxcpu": d["cpus"], "uptime": d["uptime"], "netin": d["netin"],
		"netout": d["netout"], "diskread": 0, "diskwrite": 0,
	}
	if st.Config.Values["template"] == "1" {
		out["template"] = 1
	}
	if t, ok := d["tags"]; ok {
		out["tags"] = t
	}
	if l, ok := d["lock"]; ok {
		out["lock"] = l
	}
	return out
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// rootfsSize is the size= of a rootfs value in bytes.
func rootfsSize(value string) int64 {
	mp, err := parseMountPoint("rootfs", value)
	if err != nil {
		return 0
	}
	n, _ := pveformat.ParseDiskSize(mp.Value("size"))
	return n
}

// parseMountPoint parses a rootfs/mpN/unusedN value with the schema.
func parseMountPoint(key, value string) (pveformat.PropertyString, error) {
	p, ok := schema.ConfigKey(key)
	if !ok {
		return pveformat.PropertyString{}, fmt.Errorf("unknown mount point key %q", key)
	}
	return p.ParseValue(value)
}

// canonical prints a property-string config value the way PVE writes it.
// ps holds values parsed from a property string or set by the simulator
// itself, which never contain a separator: a failure is a simulator bug.
func canonical(key string, ps pveformat.PropertyString) string {
	p, ok := schema.ConfigKey(key)
	if !ok {
		return ""
	}
	printed, err := p.Canonical(ps)
	if err != nil {
		panic(fmt.Sprintf("pvesim: re-printing %s: %v", key, err))
	}
	return printed
}

// mountPointType is classify_mountpoint: "volume", "bind" or "device".
func mountPointType(volume string) string {
	switch {
	case strings.HasPrefix(volume, "/dev/"):
		return "device"
	case strings.HasPrefix(volume, "/"):
		return "bind"
	}
	return "volume"
}

// newDiskRE is $PVE::LXC::NEW_DISK_RE: "[storage:]size-in-GiB".
var newDiskRE = regexp.MustCompile(`^(?:([^/:\s]+):)?(\d+(?:\.\d+)?)$`)

var (
	mpKeyRE     = regexp.MustCompile(`^mp\d+$`)
	unusedKeyRE = regexp.MustCompile(`^unused\d+$`)
	netKeyRE    = regexp.MustCompile(`^net(\d+)$`)
)

func isVolumeKey(key string) bool { return key == "rootfs" || mpKeyRE.MatchString(key) }

// volumeKeys lists rootfs and the mpN keys present in values, in PVE's order.
func volumeKeys(values map[string]string) []string {
	var keys []string
	if _, ok := values["rootfs"]; ok {
		keys = append(keys, "rootfs")
	}
	var mps []int
	for k := range values {
		if mpKeyRE.MatchString(k) {
			mps = append(mps, atoiOr(k[2:], 0))
		}
	}
	sort.Ints(mps)
	for _, n := range mps {
		keys = append(keys, fmt.Sprintf("mp%d", n))
	}
	return keys
}

// configVolumes lists the storage volumes a config references (rootfs,
// mount points, unused disks; pending values included).
func configVolumes(cfg *ctConfig) []string {
	seen := map[string]bool{}
	var out []string
	add := func(key, value string) {
		if !isVolumeKey(key) && !unusedKeyRE.MatchString(key) {
			return
		}
		ps, err := parseMountPoint(key, value)
		if err != nil {
			return
		}
		vol := ps.Value("volume")
		if mountPointType(vol) != "volume" || newDiskRE.MatchString(vol) || seen[vol] {
			return
		}
		seen[vol] = true
		out = append(out, vol)
	}
	for _, k := range sortedKeys(cfg.Values) {
		add(k, cfg.Values[k])
	}
	for _, k := range sortedKeys(cfg.Pending) {
		add(k, cfg.Pending[k])
	}
	return out
}

// randomHWAddr is PVE's random_ether_addr with the Proxmox prefix
// BC:24:11: locally chosen, unicast.
func randomHWAddr() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("BC:24:11:%02X:%02X:%02X", b[0], b[1], b[2])
}

// canonicalNet is parse_lxc_network + print_lxc_network: type=veth and a
// generated hwaddr when none is set, printed in canonical order.
func canonicalNet(key, value string) (string, error) {
	p, ok := schema.ConfigKey(key)
	if !ok {
		return "", fmt.Errorf("unknown network key %q", key)
	}
	ps, err := p.ParseValue(value)
	if err != nil {
		return "", err
	}
	ps.Set("type", "veth")
	if ps.Value("hwaddr") == "" {
		ps.Set("hwaddr", randomHWAddr())
	}
	return p.Canonical(ps)
}

// specFor derives what the backend needs from a container's values.
func specFor(vmid int, node string, values map[string]string, imagePath string) backend.ContainerSpec {
	spec := backend.ContainerSpec{
		VMID: vmid, Node: node, Hostname: values["hostname"], ImagePath: imagePath,
		Unprivileged: values["unprivileged"] == "1", MemoryMiB: atoiOr(values["memory"], 512),
		SwapMiB: atoiOr(values["swap"], 512), Cores: atoiOr(values["cores"], 0),
		RootfsBytes: rootfsSize(values["rootfs"]), Nameserver: values["nameserver"], Searchdomain: values["searchdomain"],
	}
	if spec.Hostname == "" {
		spec.Hostname = fmt.Sprintf("CT%d", vmid)
	}
	var nets []int
	for k := range values {
		if m := netKeyRE.FindStringSubmatch(k); m != nil {
			nets = append(nets, atoiOr(m[1], 0))
		}
	}
	sort.Ints(nets)
	for _, i := range nets {
		key := fmt.Sprintf("net%d", i)
		p, _ := schema.ConfigKey(key)
		ps, err := p.ParseValue(values[key])
		if err != nil {
			continue
		}
		spec.Networks = append(spec.Networks, backend.Network{
			Index: i, Name: ps.Value("name"), Bridge: ps.Value("bridge"), HWAddr: ps.Value("hwaddr"),
			IP: ps.Value("ip"), GW: ps.Value("gw"), IP6: ps.Value("ip6"), GW6: ps.Value("gw6"), MTU: atoiOr(ps.Value("mtu"), 0),
		})
	}
	if f := values["features"]; f != "" {
		if p, ok := schema.ConfigKey("features"); ok {
			if ps, err := p.ParseValue(f); err == nil {
				spec.Features = map[string]string{}
				for _, k := range ps.Keys() {
					spec.Features[k] = ps.Value(k)
				}
			}
		}
	}
	return spec
}

// restoreBackend re-creates the persisted containers in the backend after
// a restart, and starts those that were running.
// restoreOrder lists the containers to restore, every template before its
// linked clones.
func (s *Server) restoreOrder() []ctState {
	pending := s.containerStates()
	done := map[int]bool{}
	var out []ctState
	for len(pending) > 0 {
		var next []ctState
		for _, st := range pending {
			if tpl := s.linkedTemplateOf(st); tpl != 0 && !done[tpl] && s.exists(tpl) {
				next = append(next, st)
				continue
			}
			out = append(out, st)
			done[st.VMID] = true
		}
		if len(next) == len(pending) {
			return append(out, next...) // a cycle cannot happen; restore the rest anyway
		}
		pending = next
	}
	return out
}

// linkedTemplateOf is the VMID of the template a linked clone's volumes
// are children of, or 0.
func (s *Server) linkedTemplateOf(st ctState) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, vol := range configVolumes(st.Config) {
		v, ok := s.volumeLocked(st.Node, vol)
		if !ok || v.Parent == "" {
			continue
		}
		if base, ok := s.volumeLocked(st.Node, v.Parent); ok {
			return base.VMID
		}
	}
	return 0
}

// exists reports whether the cluster has container vmid.
func (s *Server) exists(vmid int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.containers[vmid]
	return ok
}

func (s *Server) restoreBackend(ctx context.Context) {
	for _, st := range s.restoreOrder() {
		if st.Config.lock() == "create" {
			continue
		}
		spec := specFor(st.VMID, st.Node, st.Config.Values, "")
		var err error
		if tpl := s.linkedTemplateOf(st); tpl != 0 {
			err = s.backend.Clone(ctx, tpl, spec, true, func(string) {})
		} else {
			err = s.backend.Create(ctx, spec, func(string) {})
		}
		if err != nil {
			s.logf("pvesim: restoring CT %d in the %s backend: %v", st.VMID, s.backend.Name(), err)
			continue
		}
		if st.Config.Values["template"] == "1" {
			if err := s.backend.Template(ctx, st.VMID); err != nil {
				s.logf("pvesim: restoring template CT %d: %v", st.VMID, err)
			}
		}
		// Only the config survives a restart: a backend that re-created the
		// container (the memory backend, which keeps no filesystem) gets
		// its snapshots registered again from the config's sections.
		for _, name := range sortedKeys(st.Config.Snapshots) {
			if err := s.backend.Snapshot(ctx, st.VMID, name); err != nil {
				s.logf("pvesim: restoring snapshot %q of CT %d: %v", name, st.VMID, err)
			}
		}
		if st.Running {
			if err := s.backend.Start(ctx, st.VMID); err != nil {
				s.logf("pvesim: restarting CT %d: %v", st.VMID, err)
				s.setRunning(st.VMID, false)
			}
		}
	}
}

package pveapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/clocktest"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// This file is the client's contract with the simulator: every client
// method end to end, in both authentication modes, with assertions on what
// the simulator stored and what the API answered. It is an external test
// package because the simulator may import pveapi.

const (
	node        = "pve"
	debianFile  = "debian-12-standard_12.7-1_amd64.tar.zst"
	debianVolID = "local:vztmpl/" + debianFile
	alpineFile  = "alpine-3.22-default_20250617_amd64.tar.xz"
	ubuntuFile  = "ubuntu-24.04-standard_24.04-2_amd64.tar.zst"
	apiPrefix   = "/api2/json"
	staleDigest = "detected modified configuration - file changed by other user? Try again."
)

// authMode is one way of reaching the simulator.
type authMode struct {
	name string
	// tickets is true for the username/password mode.
	tickets bool
	config  func(sim *pvesimtest.Sim) pveapi.Config
}

// authModes are the two modes the contract runs in: an API token with the
// certificate pinned by fingerprint, and a root@pam password login that
// trusts the simulator's CA.
var authModes = []authMode{
	{
		name: "token+fingerprint",
		config: func(sim *pvesimtest.Sim) pveapi.Config {
			return pveapi.Config{Endpoint: sim.Endpoint(), APIToken: sim.APIToken(), TLSFingerprint: sim.Fingerprint()}
		},
	},
	{
		name:    "password+ca",
		tickets: true,
		config: func(sim *pvesimtest.Sim) pveapi.Config {
			return pveapi.Config{Endpoint: sim.Endpoint(), Username: sim.Username(), Password: sim.Password(), CACertPEM: string(sim.CACertPEM())}
		},
	},
}

// env is one contract case's simulator and client.
type env struct {
	t    *testing.T
	ctx  context.Context
	sim  *pvesimtest.Sim
	c    *pveapi.Client
	mode authMode
}

// withDebian pre-installs the Debian 12 appliance on "local".
var withDebian = pvesimtest.WithTemplates(debianFile)

// newEnv starts a fast simulator (tasks of a few ms, no SSH) and a client
// with short retry and poll intervals; adjust edits the client config.
func newEnv(t *testing.T, mode authMode, opts []pvesimtest.Option, adjust func(*pveapi.Config)) *env {
	t.Helper()
	sim := pvesimtest.New(t, append([]pvesimtest.Option{pvesimtest.WithoutSSH(), pvesimtest.WithTaskDuration(3 * time.Millisecond)}, opts...)...)
	cfg := mode.config(sim)
	cfg.Retry = pveapi.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	cfg.TaskPoll = pveapi.TaskPollPolicy{Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond}
	if adjust != nil {
		adjust(&cfg)
	}
	c, err := pveapi.New(cfg)
	if err != nil {
		t.Fatalf("pveapi.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, sim: sim, c: c, mode: mode}
}

// identity is who the simulator sees: root@pam or the token id.
func (e *env) identity() string {
	if e.mode.tickets {
		return e.sim.Username()
	}
	id, _, _ := strings.Cut(e.sim.APIToken(), "=")
	return id
}

// containerParams are a typical create request: static IPv4 on net0, an
// 8 GiB root disk, 1 GiB of memory, tags in mixed case and separators.
func containerParams(hostname string) *pveapi.Params {
	return pveapi.NewParams().
		Set("ostemplate", debianVolID).
		Set("hostname", hostname).
		Set("net0", "name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1").
		Set("rootfs", "local-lvm:8").
		SetInt("memory", 1024).
		Set("tags", "Web;db,web").
		Set("description", "line one\nline two")
}

// create creates a container with an allocated VMID and waits for it.
func (e *env) create(hostname string) int {
	e.t.Helper()
	vmid, res, err := e.c.CreateContainerAuto(e.ctx, node, containerParams(hostname))
	if err != nil {
		e.t.Fatalf("CreateContainerAuto: %v", err)
	}
	if res.ExitStatus != "OK" {
		e.t.Fatalf("create task exit status %q", res.ExitStatus)
	}
	return vmid
}

// container returns the simulator's view of a container.
func (e *env) container(vmid int) pvesim.ContainerInfo {
	e.t.Helper()
	ct, ok := e.sim.Container(vmid)
	if !ok {
		e.t.Fatalf("the simulator has no container %d", vmid)
	}
	return ct
}

// requests are the simulator's records of method on path (relative to
// /api2/json).
func (e *env) requests(method, path string) []pvesim.RequestRecord {
	var out []pvesim.RequestRecord
	for _, r := range e.sim.Requests() {
		if r.Method == method && r.Path == apiPrefix+path {
			out = append(out, r)
		}
	}
	return out
}

func statuses(records []pvesim.RequestRecord) []int {
	out := make([]int, len(records))
	for i, r := range records {
		out[i] = r.Status
	}
	return out
}

// wantAPIError asserts err is an *APIError with status and a message
// containing text, and returns its per-parameter errors.
func wantAPIError(t *testing.T, err error, status int, text string) map[string]string {
	t.Helper()
	var apiErr *pveapi.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	if apiErr.Status != status || !strings.Contains(apiErr.Message, text) {
		t.Fatalf("APIError status %d message %q, want %d containing %q", apiErr.Status, apiErr.Message, status, text)
	}
	return apiErr.Errors
}

func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantTask(t *testing.T, res *pveapi.TaskResult, err error, typ string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s task: %v", typ, err)
	}
	if res == nil || res.UPID.Type != typ || res.UPID.Node != node || res.ExitStatus != "OK" {
		t.Fatalf("task result %+v, want a finished %s task on %s with exit status OK", res, typ, node)
	}
}

// contractCases are the behaviours checked in every authentication mode;
// each gets a fresh simulator.
var contractCases = []struct {
	name string
	opts []pvesimtest.Option
	run  func(e *env)
}{
	{name: "cluster", opts: []pvesimtest.Option{withDebian, pvesimtest.WithNodes("pve", "pve2")}, run: testCluster},
	{name: "create and config", opts: []pvesimtest.Option{withDebian}, run: testCreateAndConfig},
	{name: "lifecycle, pending and interfaces", opts: []pvesimtest.Option{withDebian}, run: testLifecycle},
	{name: "resize", opts: []pvesimtest.Option{withDebian}, run: testResize},
	{name: "template and clones", opts: []pvesimtest.Option{withDebian}, run: testTemplateAndClones},
	{name: "snapshots", opts: []pvesimtest.Option{withDebian, withDirStorage}, run: testSnapshots},
	{name: "storage", opts: []pvesimtest.Option{withDebian}, run: testStorage},
	{name: "OS image download", run: testOSImageDownload},
	{name: "OS image lookup", opts: []pvesimtest.Option{pvesimtest.WithTemplates(
		"debian-12-standard_12.1-1_amd64.tar.zst", "debian-12-standard_12.10-1_amd64.tar.zst", "debian-12-standard_12.8-1_amd64.tar.zst",
	)}, run: testOSImageLookup},
	{name: "tasks and the create's OS image", opts: []pvesimtest.Option{withDebian}, run: testTasksAndContainerOSImage},
	{name: "delete volume", run: testDeleteVolume},
	{name: "delete container", opts: []pvesimtest.Option{withDebian}, run: testDeleteContainer},
	{name: "task failure", opts: []pvesimtest.Option{withDebian, pvesimtest.WithFault(pvesim.Fault{
		Kind: pvesim.FaultTaskFail, TaskType: "vzcreate", Message: "unable to create CT 100 - no space left on device",
	})}, run: testTaskFailure},
	{name: "task warnings", opts: []pvesimtest.Option{withDebian, pvesimtest.WithFault(pvesim.Fault{
		Kind: pvesim.FaultTaskWarn, TaskType: "vzstart", Message: "cgroup v1 is deprecated",
	})}, run: testTaskWarnings},
	{name: "lock timeout retried", opts: []pvesimtest.Option{withDebian}, run: testLockTimeoutRetried},
	{name: "proxy error not retried", opts: []pvesimtest.Option{withDebian}, run: testProxyErrorNotRetried},
	{name: "dropped connection", opts: []pvesimtest.Option{withDebian}, run: testDroppedConnection},
	{name: "ticket expiry", run: testTicketExpiry},
	{name: "parallel auto VMIDs", opts: []pvesimtest.Option{withDebian}, run: testParallelAutoVMIDs},
}

// TestSimulatorContract runs every contract case in both auth modes.
func TestSimulatorContract(t *testing.T) {
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			for _, cc := range contractCases {
				t.Run(cc.name, func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, mode, cc.opts, nil)
					cc.run(e)
					e.checkAuthentication()
				})
			}
		})
	}
}

// checkAuthentication asserts every authenticated request ran as the
// configured identity, and that only the password mode logged in.
func (e *env) checkAuthentication() {
	e.t.Helper()
	logins := 0
	for _, r := range e.sim.Requests() {
		if r.Path == apiPrefix+"/access/ticket" {
			logins++
			if r.Params["password"] != nil && r.Params["password"] != "********" {
				e.t.Errorf("the request log shows a password: %v", r.Params["password"])
			}
			continue
		}
		// Status, drop and 401 answers go out before (or instead of) the
		// authentication, so they name nobody.
		answeredBeforeAuth := r.Status == http.StatusUnauthorized || (r.Fault != "" && r.Auth == "")
		if !answeredBeforeAuth && r.Auth != e.identity() {
			e.t.Errorf("%s %s ran as %q, want %q", r.Method, r.Path, r.Auth, e.identity())
		}
	}
	if e.mode.tickets && logins == 0 {
		e.t.Error("password mode never logged in")
	}
	if !e.mode.tickets && logins != 0 {
		e.t.Errorf("token mode logged in %d times", logins)
	}
	if got := e.c.Identity(); got != e.identity() {
		e.t.Errorf("Identity() = %q, want %q", got, e.identity())
	}
	if e.c.UsesAPIToken() == e.mode.tickets {
		e.t.Errorf("UsesAPIToken() = %v in mode %s", e.c.UsesAPIToken(), e.mode.name)
	}
}

func testCluster(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	v, err := c.Version(ctx)
	mustOK(t, "Version", err)
	if v.Version == "" || !strings.HasPrefix(v.Version, v.Release+".") || v.RepoID == "" {
		t.Errorf("Version = %+v", v)
	}

	nodes, err := c.Nodes(ctx)
	mustOK(t, "Nodes", err)
	var names []string
	for _, n := range nodes {
		names = append(names, n.Node)
		if n.Status != "online" || n.MaxCPU == 0 || n.MaxMem == 0 || n.SSLFingerprint != e.sim.Fingerprint() {
			t.Errorf("node %+v", n)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"pve", "pve2"}) {
		t.Errorf("node names %v", names)
	}

	ns, err := c.NodeStatus(ctx, "pve2")
	mustOK(t, "NodeStatus", err)
	if ns.CPUInfo.CPUs == 0 || ns.Memory.Total == 0 || ns.Memory.Used+ns.Memory.Free != ns.Memory.Total ||
		!strings.Contains(ns.PVEVersion, v.Version) || len(ns.LoadAvg) != 3 || ns.RootFS.Total == 0 {
		t.Errorf("NodeStatus = %+v", ns)
	}
	_, err = c.NodeStatus(ctx, "nosuchnode")
	wantAPIError(t, err, http.StatusInternalServerError, "hostname lookup 'nosuchnode' failed")

	// PVE answers nextid with a JSON string; the client decodes it.
	var raw json.RawMessage
	mustOK(t, "GET /cluster/nextid", c.Do(ctx, http.MethodGet, "/cluster/nextid", nil, &raw))
	if string(raw) != `"100"` {
		t.Errorf("raw nextid answer %s, want the string \"100\"", raw)
	}
	id, err := c.NextID(ctx, nil)
	mustOK(t, "NextID", err)
	if id != 100 {
		t.Errorf("NextID = %d, want 100", id)
	}
	hint := 150
	if id, err := c.NextID(ctx, &hint); err != nil || id != 150 {
		t.Errorf("NextID(150) = %d, %v", id, err)
	}

	vmid := e.create("web1")
	if vmid != 100 {
		t.Errorf("first allocated VMID %d, want 100", vmid)
	}
	if id, err := c.NextID(ctx, nil); err != nil || id != 101 {
		t.Errorf("NextID after a create = %d, %v, want 101", id, err)
	}
	_, err = c.NextID(ctx, &vmid)
	if !errors.Is(err, pveapi.ErrAlreadyExists) {
		t.Errorf("NextID(taken) error %v, want ErrAlreadyExists", err)
	}
	if paramErrs := wantAPIError(t, err, http.StatusBadRequest, "Parameter verification failed."); paramErrs["vmid"] != "VM 100 already exists" {
		t.Errorf("NextID(taken) errors %v", paramErrs)
	}

	vms, err := c.ClusterResources(ctx, "vm")
	mustOK(t, "ClusterResources(vm)", err)
	if len(vms) != 1 || vms[0].ID != "lxc/100" || vms[0].Type != "lxc" || vms[0].VMID != 100 || vms[0].Node != node ||
		vms[0].Name != "web1" || vms[0].Tags != "db;web" || vms[0].Status != "stopped" || vms[0].Template {
		t.Errorf("ClusterResources(vm) = %+v", vms)
	}
	nodeRes, err := c.ClusterResources(ctx, "node")
	mustOK(t, "ClusterResources(node)", err)
	if len(nodeRes) != 2 || nodeRes[0].Type != "node" {
		t.Errorf("ClusterResources(node) = %+v", nodeRes)
	}
	all, err := c.ClusterResources(ctx, "")
	mustOK(t, "ClusterResources()", err)
	if len(all) <= len(vms)+len(nodeRes) {
		t.Errorf("ClusterResources() has %d entries, want guests, nodes and storages", len(all))
	}
}

var net0Pattern = regexp.MustCompile(`^name=eth0,bridge=vmbr0,gw=192\.0\.2\.1,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=192\.0\.2\.10/24,type=veth$`)

func testCreateAndConfig(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid, upid, err := c.CreateContainerAutoAsync(ctx, node, containerParams("web1"))
	mustOK(t, "CreateContainerAutoAsync", err)
	res, err := c.WaitTask(ctx, upid)
	wantTask(t, res, err, "vzcreate")
	if vmid != 100 || res.UPID.ID != "100" || res.UPID.User != e.identity() && !strings.HasPrefix(e.identity(), res.UPID.User+"!") {
		t.Errorf("vmid %d, task %+v", vmid, res.UPID)
	}
	post := e.requests(http.MethodPost, "/nodes/pve/lxc")
	if len(post) != 1 || post[0].Params["vmid"] != "100" || post[0].Params["memory"] != "1024" {
		t.Errorf("create requests %+v", post)
	}

	ct := e.container(vmid)
	want := map[string]string{
		"hostname": "web1", "memory": "1024", "rootfs": "local-lvm:vm-100-disk-0,size=8G", "tags": "db;web",
		"unprivileged": "1", "arch": "amd64", "ostype": "debian",
	}
	for k, v := range want {
		if ct.Config[k] != v {
			t.Errorf("stored %s = %q, want %q", k, ct.Config[k], v)
		}
	}
	if ct.Status != "stopped" || ct.Lock != "" || !net0Pattern.MatchString(ct.Config["net0"]) {
		t.Errorf("stored container: status %q lock %q net0 %q", ct.Status, ct.Lock, ct.Config["net0"])
	}

	cfg, err := c.ContainerConfig(ctx, node, vmid)
	mustOK(t, "ContainerConfig", err)
	if cfg.Digest == "" || cfg.Digest != ct.Digest {
		t.Errorf("digest %q, simulator %q", cfg.Digest, ct.Digest)
	}
	if got := cfg.Value("tags"); got != "db;web" {
		t.Errorf("tags read back %q, want the normalised \"db;web\"", got)
	}
	// PVE stores the description as comment lines and appends "\n" to each.
	if got := cfg.Value("description"); got != "line one\nline two\n" {
		t.Errorf("description read back %q", got)
	}
	if mem, err := cfg.Int("memory", 0); err != nil || mem != 1024 {
		t.Errorf("memory %d, %v", mem, err)
	}
	if unpriv, err := cfg.Bool("unprivileged", false); err != nil || !unpriv {
		t.Errorf("unprivileged %v, %v", unpriv, err)
	}
	net0, ok, err := cfg.Property("net0", "")
	if err != nil || !ok || net0.Value("ip") != "192.0.2.10/24" || net0.Value("hwaddr") == "" {
		t.Errorf("net0 %v ok=%v err=%v", net0, ok, err)
	}
	if cfg.Lock() != "" || cfg.IsTemplate() || !slices.Equal(cfg.Slots("net"), []int{0}) {
		t.Errorf("lock %q template %v net slots %v", cfg.Lock(), cfg.IsTemplate(), cfg.Slots("net"))
	}
	current, err := c.ContainerCurrentConfig(ctx, node, vmid)
	mustOK(t, "ContainerCurrentConfig", err)
	if current.Digest != cfg.Digest || current.Value("memory") != "1024" {
		t.Errorf("current config digest %q memory %q", current.Digest, current.Value("memory"))
	}

	list, err := c.ListContainers(ctx, node)
	mustOK(t, "ListContainers", err)
	if len(list) != 1 || list[0].VMID != vmid || list[0].Name != "web1" || list[0].Running() || list[0].MaxMem != 1024<<20 {
		t.Errorf("ListContainers = %+v", list)
	}

	// A change guarded by the digest, with keys set and deleted.
	update := pveapi.NewParams().SetInt("memory", 2048).SetInt("cores", 2).Set("description", "only line").Delete("tags")
	mustOK(t, "UpdateContainerConfig", c.UpdateContainerConfig(ctx, node, vmid, update, cfg.Digest))
	ct = e.container(vmid)
	if ct.Config["memory"] != "2048" || ct.Config["cores"] != "2" || ct.Digest == cfg.Digest {
		t.Errorf("after update: memory %q cores %q digest %q (was %q)", ct.Config["memory"], ct.Config["cores"], ct.Digest, cfg.Digest)
	}
	if _, ok := ct.Config["tags"]; ok {
		t.Errorf("tags still stored after delete: %q", ct.Config["tags"])
	}
	puts := e.requests(http.MethodPut, "/nodes/pve/lxc/100/config")
	if len(puts) != 1 || puts[0].Params["digest"] != cfg.Digest || puts[0].Params["delete"] != "tags" {
		t.Errorf("PUT config requests %+v", puts)
	}
	updated, err := c.ContainerConfig(ctx, node, vmid)
	mustOK(t, "ContainerConfig after update", err)
	if updated.Has("tags") || updated.Value("description") != "only line\n" || updated.Value("cores") != "2" {
		t.Errorf("after update read back %v", updated.Map())
	}

	// The old digest is stale now: PVE refuses, nothing changes, no retry.
	err = c.UpdateContainerConfig(ctx, node, vmid, pveapi.NewParams().SetInt("memory", 4096), cfg.Digest)
	wantAPIError(t, err, http.StatusInternalServerError, staleDigest)
	if got := e.container(vmid).Config["memory"]; got != "2048" {
		t.Errorf("memory %q after a refused update", got)
	}
	if n := len(e.requests(http.MethodPut, "/nodes/pve/lxc/100/config")); n != 2 {
		t.Errorf("%d PUT config requests, want 2 (the refused one not retried)", n)
	}
	// Nothing to change sends nothing.
	mustOK(t, "empty update", c.UpdateContainerConfig(ctx, node, vmid, pveapi.NewParams(), updated.Digest))
	if n := len(e.requests(http.MethodPut, "/nodes/pve/lxc/100/config")); n != 2 {
		t.Errorf("an empty update sent a request (%d PUTs)", n)
	}

	// An explicit id is used as given.
	res, err = c.CreateContainer(ctx, node, 200, containerParams("fixed"))
	wantTask(t, res, err, "vzcreate")
	if fixed := e.container(200); fixed.Config["hostname"] != "fixed" || res.UPID.ID != "200" {
		t.Errorf("explicit create: %v, task %+v", fixed.Config, res.UPID)
	}

	// The id is taken now.
	_, err = c.CreateContainer(ctx, node, vmid, containerParams("again"))
	if !errors.Is(err, pveapi.ErrAlreadyExists) {
		t.Errorf("create with a taken id: %v, want ErrAlreadyExists", err)
	}
	wantAPIError(t, err, http.StatusInternalServerError, "CT 100 already exists on node 'pve'")
}

func testLifecycle(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("web1")
	ifaces, err := c.ContainerInterfaces(ctx, node, vmid)
	if err != nil || ifaces != nil {
		t.Errorf("interfaces of a stopped container = %+v, %v; want nil", ifaces, err)
	}
	st, err := c.ContainerStatus(ctx, node, vmid)
	mustOK(t, "ContainerStatus", err)
	if st.Running() || st.VMID != vmid || st.Name != "web1" || st.MaxMem != 1024<<20 {
		t.Errorf("status of a stopped container %+v", st)
	}

	res, err := c.StartContainer(ctx, node, vmid)
	wantTask(t, res, err, "vzstart")
	if got := e.container(vmid).Status; got != "running" {
		t.Fatalf("simulator status %q after start", got)
	}
	st, err = c.ContainerStatus(ctx, node, vmid)
	mustOK(t, "ContainerStatus", err)
	if !st.Running() || st.PID == 0 {
		t.Errorf("status after start %+v", st)
	}
	_, err = c.StartContainer(ctx, node, vmid)
	wantAPIError(t, err, http.StatusInternalServerError, "CT 100 already running")

	ifaces, err = c.ContainerInterfaces(ctx, node, vmid)
	mustOK(t, "ContainerInterfaces", err)
	var eth0 *pveapi.ContainerInterface
	var names []string
	for i := range ifaces {
		names = append(names, ifaces[i].Name)
		if ifaces[i].Name == "eth0" {
			eth0 = &ifaces[i]
		}
	}
	if !slices.Contains(names, "lo") || eth0 == nil {
		t.Fatalf("interfaces %v, want lo and eth0", names)
	}
	net0 := e.container(vmid).Config["net0"]
	// Every address is listed; PVE's inet6 is the last IPv6 one, here the
	// link-local address every interface has.
	if eth0.Inet != "192.0.2.10/24" || len(eth0.IPAddresses) != 2 ||
		eth0.IPAddresses[0] != (pveapi.InterfaceAddress{Address: "192.0.2.10", Type: "inet", Prefix: 24}) ||
		eth0.IPAddresses[1].Type != "inet6" || eth0.IPAddresses[1].Prefix != 64 || !strings.HasPrefix(eth0.IPAddresses[1].Address, "fe80::") ||
		eth0.Inet6 != eth0.IPAddresses[1].Address+"/64" || eth0.HardwareAddress != eth0.HWAddr ||
		!strings.Contains(net0, "hwaddr="+strings.ToUpper(eth0.HWAddr)) {
		t.Errorf("eth0 %+v, net0 %q", eth0, net0)
	}

	// On a running container memory is hot-applied; nameserver waits for
	// the next start in the pending section.
	mustOK(t, "UpdateContainerConfig", c.UpdateContainerConfig(ctx, node, vmid,
		pveapi.NewParams().Set("nameserver", "192.0.2.53").SetInt("memory", 1536), ""))
	pending, err := c.ContainerPending(ctx, node, vmid)
	mustOK(t, "ContainerPending", err)
	byKey := map[string]pveapi.PendingEntry{}
	for _, p := range pending {
		byKey[p.Key] = p
	}
	if p := byKey["nameserver"]; p.Pending != "192.0.2.53" || p.Value != "" {
		t.Errorf("pending nameserver %+v", p)
	}
	if p := byKey["memory"]; p.Value != "1536" || p.Pending != "" {
		t.Errorf("pending memory %+v", p)
	}
	if p := byKey["digest"]; p.Value != e.container(vmid).Digest {
		t.Errorf("pending digest %+v", p)
	}
	ct := e.container(vmid)
	if ct.Pending["nameserver"] != "192.0.2.53" || ct.Config["nameserver"] != "" || ct.Config["memory"] != "1536" {
		t.Errorf("simulator: pending %v, nameserver %q, memory %q", ct.Pending, ct.Config["nameserver"], ct.Config["memory"])
	}
	merged, err := c.ContainerConfig(ctx, node, vmid)
	mustOK(t, "ContainerConfig", err)
	current, err := c.ContainerCurrentConfig(ctx, node, vmid)
	mustOK(t, "ContainerCurrentConfig", err)
	if merged.Value("nameserver") != "192.0.2.53" || current.Has("nameserver") {
		t.Errorf("merged nameserver %q, current has it: %v", merged.Value("nameserver"), current.Has("nameserver"))
	}

	res, err = c.RebootContainer(ctx, node, vmid)
	wantTask(t, res, err, "vzreboot")
	if got := e.container(vmid).Status; got != "running" {
		t.Errorf("simulator status %q after reboot", got)
	}
	res, err = c.ShutdownContainer(ctx, node, vmid, 10, true)
	wantTask(t, res, err, "vzshutdown")
	if got := e.container(vmid).Status; got != "stopped" {
		t.Errorf("simulator status %q after shutdown", got)
	}
	shutdowns := e.requests(http.MethodPost, "/nodes/pve/lxc/100/status/shutdown")
	if len(shutdowns) != 1 || shutdowns[0].Params["timeout"] != "10" || shutdowns[0].Params["forceStop"] != "1" {
		t.Errorf("shutdown requests %+v", shutdowns)
	}
	_, err = c.StopContainer(ctx, node, vmid)
	wantAPIError(t, err, http.StatusInternalServerError, "CT 100 not running")
	_, err = c.RebootContainer(ctx, node, vmid)
	wantAPIError(t, err, http.StatusInternalServerError, "VM 100 not running")

	// A start applies what was pending.
	res, err = c.StartContainer(ctx, node, vmid)
	wantTask(t, res, err, "vzstart")
	ct = e.container(vmid)
	if ct.Config["nameserver"] != "192.0.2.53" || len(ct.Pending) != 0 {
		t.Errorf("after start: nameserver %q pending %v", ct.Config["nameserver"], ct.Pending)
	}
	res, err = c.StopContainer(ctx, node, vmid)
	wantTask(t, res, err, "vzstop")
	st, err = c.ContainerStatus(ctx, node, vmid)
	mustOK(t, "ContainerStatus", err)
	if st.Running() || e.container(vmid).Status != "stopped" {
		t.Errorf("after stop: status %+v", st)
	}
	if ifaces, err := c.ContainerInterfaces(ctx, node, vmid); err != nil || ifaces != nil {
		t.Errorf("interfaces after stop = %+v, %v; want nil", ifaces, err)
	}
}

func testResize(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("web1")
	res, err := c.ResizeContainerDisk(ctx, node, vmid, "rootfs", "+2G")
	wantTask(t, res, err, "resize")
	if got := e.container(vmid).Config["rootfs"]; got != "local-lvm:vm-100-disk-0,size=10G" {
		t.Errorf("rootfs after +2G: %q", got)
	}
	_, err = c.ResizeContainerDisk(ctx, node, vmid, "rootfs", "4G")
	wantAPIError(t, err, http.StatusInternalServerError, "unable to shrink disk size")
	res, err = c.ResizeContainerDisk(ctx, node, vmid, "rootfs", "12G")
	wantTask(t, res, err, "resize")
	vols := e.sim.Volumes(node, "local-lvm")
	if len(vols) != 1 || vols[0].Size != 12<<30 || e.container(vmid).Config["rootfs"] != "local-lvm:vm-100-disk-0,size=12G" {
		t.Errorf("after 12G: volumes %+v rootfs %q", vols, e.container(vmid).Config["rootfs"])
	}
}

func testTemplateAndClones(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("golden")
	mustOK(t, "ConvertToTemplateAsync", c.ConvertToTemplateAsync(ctx, node, vmid))
	mustOK(t, "WaitForTemplate", c.WaitForTemplate(ctx, node, vmid))
	ct := e.container(vmid)
	if ct.Config["template"] != "1" || ct.Lock != "" || ct.Config["rootfs"] != "local-lvm:base-100-disk-0,size=8G" {
		t.Errorf("template: %v lock %q", ct.Config, ct.Lock)
	}
	err := c.ConvertToTemplate(ctx, node, vmid)
	wantAPIError(t, err, http.StatusInternalServerError, "you can't convert a template to a template")
	// The waiting variant, on a second container.
	second := e.create("golden2")
	mustOK(t, "ConvertToTemplate", c.ConvertToTemplate(ctx, node, second))
	if ct := e.container(second); ct.Config["template"] != "1" || ct.Lock != "" {
		t.Errorf("second template: %v lock %q", ct.Config, ct.Lock)
	}

	// A template clones linked by default; Full=false says so explicitly.
	linked, res, err := c.CloneContainerAuto(ctx, node, vmid, pveapi.CloneOptions{Hostname: "clone1", Full: new(false)})
	wantTask(t, res, err, "vzclone")
	if linked != 102 {
		t.Errorf("linked clone id %d, want 102", linked)
	}
	clone := e.container(linked)
	if clone.Config["hostname"] != "clone1" || clone.Config["memory"] != "1024" || clone.Status != "stopped" {
		t.Errorf("linked clone %v", clone.Config)
	}
	clones := e.requests(http.MethodPost, "/nodes/pve/lxc/100/clone")
	if len(clones) != 1 || clones[0].Params["full"] != "0" || clones[0].Params["newid"] != "102" || clones[0].Params["hostname"] != "clone1" {
		t.Errorf("clone requests %+v", clones)
	}

	full, res, err := c.CloneContainerAuto(ctx, node, vmid, pveapi.CloneOptions{Hostname: "clone2", Full: new(true), Storage: "local-lvm"})
	wantTask(t, res, err, "vzclone")
	if full != 103 {
		t.Errorf("full clone id %d, want 103", full)
	}
	res, err = c.CloneContainer(ctx, node, second, 150, pveapi.CloneOptions{Hostname: "clone3"})
	wantTask(t, res, err, "vzclone")
	parents := map[int]string{}
	for _, v := range e.sim.Volumes(node, "local-lvm") {
		if v.VMID != vmid && v.VMID != second {
			parents[v.VMID] = v.Parent
		}
	}
	if parents[linked] != "local-lvm:base-100-disk-0" || parents[full] != "" || parents[150] != "local-lvm:base-101-disk-0" || len(parents) != 3 {
		t.Errorf("clone volume parents %v", parents)
	}
	// A clone id that is taken is ErrAlreadyExists.
	_, err = c.CloneContainer(ctx, node, vmid, full, pveapi.CloneOptions{})
	if !errors.Is(err, pveapi.ErrAlreadyExists) {
		t.Errorf("clone onto a taken id: %v", err)
	}

	list, err := c.ListContainers(ctx, node)
	mustOK(t, "ListContainers", err)
	templates := map[int]bool{}
	for _, s := range list {
		templates[s.VMID] = s.Template
	}
	if len(templates) != 5 || !templates[vmid] || !templates[second] || templates[linked] || templates[full] || templates[150] {
		t.Errorf("template flags %v", templates)
	}
}

func testStorage(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	storageIDs := func(content string) []string {
		t.Helper()
		list, err := c.ListStorage(ctx, node, content)
		mustOK(t, "ListStorage("+content+")", err)
		var ids []string
		for _, s := range list {
			if !s.Enabled || !s.Active || s.Total == 0 || s.Avail > s.Total {
				t.Errorf("storage %+v", s)
			}
			ids = append(ids, s.Storage)
		}
		slices.Sort(ids)
		return ids
	}
	if got := storageIDs(""); !slices.Equal(got, []string{"local", "local-lvm"}) {
		t.Errorf("all storages %v", got)
	}
	if got := storageIDs("vztmpl"); !slices.Equal(got, []string{"local"}) {
		t.Errorf("vztmpl storages %v", got)
	}
	if got := storageIDs("rootdir"); !slices.Equal(got, []string{"local-lvm"}) {
		t.Errorf("rootdir storages %v", got)
	}
	if s, err := c.DefaultContainerStorage(ctx, node); err != nil || s != "local-lvm" {
		t.Errorf("DefaultContainerStorage = %q, %v", s, err)
	}

	tmpl, err := c.StorageContent(ctx, node, "local", "vztmpl")
	mustOK(t, "StorageContent(local)", err)
	simVols := e.sim.Volumes(node, "local")
	if len(tmpl) != 1 || len(simVols) != 1 || tmpl[0].VolID != debianVolID || tmpl[0].Content != "vztmpl" ||
		tmpl[0].Format != "tzst" || tmpl[0].Size != simVols[0].Size || tmpl[0].Size == 0 {
		t.Errorf("local content %+v, simulator %+v", tmpl, simVols)
	}

	vmid := e.create("web1")
	disks, err := c.StorageContent(ctx, node, "local-lvm", "")
	mustOK(t, "StorageContent(local-lvm)", err)
	if len(disks) != 1 || disks[0].VolID != "local-lvm:vm-100-disk-0" || disks[0].VMID != vmid || disks[0].Size != 8<<30 || disks[0].Content != "rootdir" {
		t.Errorf("local-lvm content %+v", disks)
	}
	if none, err := c.StorageContent(ctx, node, "local-lvm", "vztmpl"); err != nil || len(none) != 0 {
		t.Errorf("vztmpl on local-lvm: %+v, %v", none, err)
	}
	_, err = c.StorageContent(ctx, node, "nosuch", "")
	if !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("content of a missing storage: %v, want ErrNotFound", err)
	}
}

func testOSImageDownload(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	apps, err := c.Appliances(ctx, node)
	mustOK(t, "Appliances", err)
	i := slices.IndexFunc(apps, func(a pveapi.Appliance) bool { return a.Template == debianFile })
	if i < 0 || apps[i].Package != "debian-12-standard" || apps[i].Type != "lxc" || apps[i].Version != "12.7-1" || apps[i].SHA512Sum == "" {
		t.Fatalf("appliance index %+v", apps)
	}

	_, err = c.FindOSImage(ctx, node, "debian-12-standard")
	if !errors.Is(err, pveapi.ErrOSImageNotFound) {
		t.Fatalf("FindOSImage before a download: %v, want ErrOSImageNotFound", err)
	}
	img, err := c.EnsureOSImage(ctx, node, "debian-12-standard", "")
	mustOK(t, "EnsureOSImage", err)
	if !img.Downloaded || img.VolID != debianVolID || img.Storage != "local" || img.Task == nil ||
		img.Task.UPID.Type != "download" || img.Task.ExitStatus != "OK" {
		t.Fatalf("first EnsureOSImage = %+v", img)
	}
	if vols := e.sim.Volumes(node, "local"); len(vols) != 1 || vols[0].VolID != debianVolID || vols[0].Content != "vztmpl" {
		t.Errorf("simulator volumes after download %+v", vols)
	}
	again, err := c.EnsureOSImage(ctx, node, "debian-12-standard", "")
	mustOK(t, "second EnsureOSImage", err)
	if again.Downloaded || again.Task != nil || again.VolID != debianVolID {
		t.Errorf("second EnsureOSImage = %+v", again)
	}
	downloads := e.requests(http.MethodPost, "/nodes/pve/aplinfo")
	if len(downloads) != 1 || downloads[0].Params["template"] != debianFile || downloads[0].Params["storage"] != "local" {
		t.Errorf("download requests %+v, want exactly one", downloads)
	}

	// By volid (its storage is where it goes) and by file name.
	img, err = c.EnsureOSImage(ctx, node, "local:vztmpl/"+alpineFile, "")
	mustOK(t, "EnsureOSImage(volid)", err)
	if !img.Downloaded || img.VolID != "local:vztmpl/"+alpineFile {
		t.Errorf("EnsureOSImage(volid) = %+v", img)
	}
	img, err = c.EnsureOSImage(ctx, node, alpineFile, "local")
	mustOK(t, "EnsureOSImage(file)", err)
	if img.Downloaded || img.VolID != "local:vztmpl/"+alpineFile {
		t.Errorf("EnsureOSImage(file) after the download = %+v", img)
	}

	// Parallel callers needing the same image download it once.
	var wg sync.WaitGroup
	results := make([]*pveapi.OSImage, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = c.EnsureOSImage(ctx, node, "ubuntu-24.04-standard", "") })
	}
	wg.Wait()
	downloaded := 0
	for i, r := range results {
		mustOK(t, "parallel EnsureOSImage", errs[i])
		if r.VolID != "local:vztmpl/"+ubuntuFile {
			t.Errorf("parallel EnsureOSImage = %+v", r)
		}
		if r.Downloaded {
			downloaded++
		}
	}
	if downloaded != 1 || len(e.requests(http.MethodPost, "/nodes/pve/aplinfo")) != 3 {
		t.Errorf("parallel EnsureOSImage downloaded %d times, %d POSTs in all", downloaded, len(e.requests(http.MethodPost, "/nodes/pve/aplinfo")))
	}

	// Unknown everywhere: a clear not-found error and no download attempt.
	_, err = c.EnsureOSImage(ctx, node, "nosuch-os-standard", "")
	if !errors.Is(err, pveapi.ErrOSImageNotFound) || !strings.Contains(err.Error(), "nosuch-os-standard") ||
		!strings.Contains(err.Error(), "appliance index") {
		t.Errorf("EnsureOSImage(unknown) error %v", err)
	}
	if n := len(e.requests(http.MethodPost, "/nodes/pve/aplinfo")); n != 3 {
		t.Errorf("an unknown image caused a download request (%d POSTs)", n)
	}

	// The raw download call: unknown names and storages without vztmpl.
	_, err = c.DownloadAppliance(ctx, node, "local", "nosuch_1.0_amd64.tar.zst")
	if !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("DownloadAppliance(unknown) = %v, want ErrNotFound", err)
	}
	_, err = c.DownloadAppliance(ctx, node, "local-lvm", debianFile)
	wantAPIError(t, err, http.StatusInternalServerError, "storage 'local-lvm' does not support templates")
}

func testOSImageLookup(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	const (
		v121  = "debian-12-standard_12.1-1_amd64.tar.zst"
		v1210 = "debian-12-standard_12.10-1_amd64.tar.zst"
		v128  = "debian-12-standard_12.8-1_amd64.tar.zst"
	)
	// The storage lists them 12.1, 12.10, 12.8; the newest is in the middle.
	cases := []struct {
		ref, want string
	}{
		{ref: "debian-12-standard", want: "local:vztmpl/" + v1210},
		{ref: v128, want: "local:vztmpl/" + v128},
		{ref: v121, want: "local:vztmpl/" + v121},
		{ref: "local:vztmpl/" + v128, want: "local:vztmpl/" + v128},
		{ref: "local:" + v121, want: "local:vztmpl/" + v121},
		{ref: "local:vztmpl%2F" + v121, want: "local:vztmpl/" + v121},
	}
	for _, tc := range cases {
		img, err := c.FindOSImage(ctx, node, tc.ref)
		if err != nil || img.VolID != tc.want || img.Storage != "local" || img.Downloaded {
			t.Errorf("FindOSImage(%q) = %+v, %v; want %s", tc.ref, img, err, tc.want)
		}
	}
	img, err := c.EnsureOSImage(ctx, node, "debian-12-standard", "")
	if err != nil || img.Downloaded || img.VolID != "local:vztmpl/"+v1210 {
		t.Errorf("EnsureOSImage with versions present = %+v, %v", img, err)
	}

	missing := []struct{ ref, text string }{
		{ref: "debian-13-standard", text: "no vztmpl storage of node pve holds debian-13-standard"},
		{ref: "local:vztmpl/" + debianFile, text: "is not on storage local of node pve"},
		{ref: "debian-12", text: "debian-12"},
	}
	for _, m := range missing {
		_, err := c.FindOSImage(ctx, node, m.ref)
		if !errors.Is(err, pveapi.ErrOSImageNotFound) || !strings.Contains(err.Error(), m.text) {
			t.Errorf("FindOSImage(%q) = %v, want ErrOSImageNotFound mentioning %q", m.ref, err, m.text)
		}
	}
	if n := len(e.requests(http.MethodPost, "/nodes/pve/aplinfo")); n != 0 {
		t.Errorf("lookups sent %d download requests", n)
	}
	// A volid naming the index's version is downloaded next to the others.
	img, err = c.EnsureOSImage(ctx, node, "local:vztmpl/"+debianFile, "")
	if err != nil || !img.Downloaded || img.VolID != debianVolID {
		t.Errorf("EnsureOSImage(missing version) = %+v, %v", img, err)
	}
	if got := len(e.sim.Volumes(node, "local")); got != 4 {
		t.Errorf("%d template volumes on local, want 4", got)
	}
}

func testTasksAndContainerOSImage(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid, upid, err := c.CreateContainerAutoAsync(ctx, node, containerParams("web1"))
	mustOK(t, "CreateContainerAutoAsync", err)
	res, err := c.WaitTask(ctx, upid)
	wantTask(t, res, err, "vzcreate")

	task, err := c.TaskStatus(ctx, upid)
	mustOK(t, "TaskStatus", err)
	if task.Running() || !task.Succeeded() || task.ExitStatus != "OK" || task.UPID.String() != upid {
		t.Errorf("TaskStatus = %+v", task)
	}
	lines, total, err := c.TaskLog(ctx, upid, 0, 500)
	mustOK(t, "TaskLog", err)
	var text []string
	for i, l := range lines {
		if l.N != i+1 {
			t.Errorf("log line %d numbered %d", i, l.N)
		}
		text = append(text, l.T)
	}
	if total != len(lines) || len(lines) < 3 || text[len(text)-1] != "TASK OK" ||
		!slices.ContainsFunc(text, func(l string) bool { return strings.Contains(l, "extracting archive '") }) {
		t.Errorf("task log (total %d): %q", total, text)
	}
	if want := e.sim.TaskLog(upid); !slices.Equal(text, want) {
		t.Errorf("TaskLog %q, simulator %q", text, want)
	}
	page, total2, err := c.TaskLog(ctx, upid, 1, 2)
	if err != nil || total2 != total || len(page) != 2 || page[0].N != 2 || page[0].T != text[1] {
		t.Errorf("TaskLog page = %+v total %d, %v", page, total2, err)
	}

	tasks, err := c.ListTasks(ctx, node, vmid, "vzcreate")
	mustOK(t, "ListTasks", err)
	if len(tasks) != 1 || tasks[0].UPID != upid || tasks[0].Type != "vzcreate" || tasks[0].Status != "OK" || tasks[0].EndTime < tasks[0].StartTime {
		t.Errorf("ListTasks = %+v", tasks)
	}
	image, err := c.ContainerOSImage(ctx, node, vmid)
	if err != nil || image != debianFile {
		t.Errorf("ContainerOSImage = %q, %v; want %q", image, err, debianFile)
	}

	// A guest that was never created here has no create task.
	if image, err := c.ContainerOSImage(ctx, node, 4242); err != nil || image != "" {
		t.Errorf("ContainerOSImage(4242) = %q, %v", image, err)
	}
	_, err = c.TaskStatus(ctx, "UPID:pve:00000001:00000002:60000000:vzstart:999:root@pam:")
	if !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("TaskStatus(unknown) = %v, want ErrNotFound", err)
	}
}

func testDeleteVolume(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	res, err := c.DownloadAppliance(ctx, node, "local", alpineFile)
	wantTask(t, res, err, "download")
	volid := "local:vztmpl/" + alpineFile
	if vols := e.sim.Volumes(node, "local"); len(vols) != 1 || vols[0].VolID != volid || vols[0].Format != "txz" {
		t.Fatalf("volumes after download %+v", vols)
	}
	res, err = c.DeleteVolume(ctx, node, "local", volid)
	wantTask(t, res, err, "imgdel")
	if vols := e.sim.Volumes(node, "local"); len(vols) != 0 {
		t.Errorf("volumes after delete %+v", vols)
	}
	if content, err := c.StorageContent(ctx, node, "local", "vztmpl"); err != nil || len(content) != 0 {
		t.Errorf("content after delete %+v, %v", content, err)
	}
	_, err = c.DeleteVolume(ctx, node, "local", volid)
	if !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("deleting it again: %v, want ErrNotFound", err)
	}
}

func testDeleteContainer(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("web1")
	res, err := c.StartContainer(ctx, node, vmid)
	wantTask(t, res, err, "vzstart")
	_, err = c.DeleteContainer(ctx, node, vmid, pveapi.DeleteContainerOptions{Purge: true})
	wantAPIError(t, err, http.StatusInternalServerError, "unable to destroy CT 100 - container is running")
	if _, ok := e.sim.Container(vmid); !ok {
		t.Fatal("a refused delete removed the container")
	}

	res, err = c.DeleteContainer(ctx, node, vmid, pveapi.DeleteContainerOptions{Purge: true, Force: true, DestroyUnreferencedDisks: true})
	wantTask(t, res, err, "vzdestroy")
	deletes := e.requests(http.MethodDelete, "/nodes/pve/lxc/100")
	last := deletes[len(deletes)-1]
	if last.Params["purge"] != "1" || last.Params["force"] != "1" || last.Params["destroy-unreferenced-disks"] != "1" {
		t.Errorf("delete parameters %v", last.Params)
	}
	if _, ok := e.sim.Container(vmid); ok {
		t.Error("the simulator still has the container")
	}
	if vols := e.sim.Volumes(node, "local-lvm"); len(vols) != 0 {
		t.Errorf("volumes left behind %+v", vols)
	}
	_, err = c.ContainerConfig(ctx, node, vmid)
	if !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("ContainerConfig after delete: %v, want ErrNotFound", err)
	}
	wantAPIError(t, err, http.StatusInternalServerError, "Configuration file 'nodes/pve/lxc/100.conf' does not exist")
	if _, err := c.ContainerStatus(ctx, node, vmid); !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("ContainerStatus after delete: %v, want ErrNotFound", err)
	}
	if _, err := c.DeleteContainer(ctx, node, vmid, pveapi.DeleteContainerOptions{Purge: true}); !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("deleting it again: %v, want ErrNotFound", err)
	}
}

func testTaskFailure(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	const msg = "unable to create CT 100 - no space left on device"
	vmid, res, err := c.CreateContainerAuto(ctx, node, containerParams("web1"))
	var taskErr *pveapi.TaskError
	if !errors.As(err, &taskErr) {
		t.Fatalf("create error %v (%T), want *TaskError; result %+v", err, err, res)
	}
	if vmid != 100 || taskErr.ExitStatus != msg || taskErr.UPID.Type != "vzcreate" || taskErr.UPID.ID != "100" {
		t.Errorf("vmid %d, task error %+v", vmid, taskErr)
	}
	if len(taskErr.LogTail) == 0 || taskErr.LogTail[len(taskErr.LogTail)-1] != "TASK ERROR: "+msg {
		t.Errorf("log tail %q", taskErr.LogTail)
	}
	if !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "TASK ERROR: "+msg) {
		t.Errorf("error text %q lacks the message or the log tail", err)
	}
	// PVE rolled the create back, and the client did not create again.
	if _, ok := e.sim.Container(vmid); ok {
		t.Error("the failed create left a container")
	}
	if n := len(e.requests(http.MethodPost, "/nodes/pve/lxc")); n != 1 {
		t.Errorf("%d create requests after a failed task, want 1", n)
	}
}

func testTaskWarnings(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("web1")
	res, err := c.StartContainer(ctx, node, vmid)
	mustOK(t, "StartContainer", err)
	if res.ExitStatus != "WARNINGS: 1" || !slices.Contains(res.Warnings, "cgroup v1 is deprecated") || len(res.Log) == 0 {
		t.Errorf("task result %+v", res)
	}
	if e.container(vmid).Status != "running" {
		t.Error("a start with warnings did not start the container")
	}
}

func testLockTimeoutRetried(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("web1")
	const path = "/nodes/pve/lxc/100/config"
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Method: http.MethodPut, Path: path, Count: 1})
	mustOK(t, "UpdateContainerConfig", c.UpdateContainerConfig(ctx, node, vmid, pveapi.NewParams().SetInt("memory", 768), ""))
	if got := e.container(vmid).Config["memory"]; got != "768" {
		t.Errorf("memory %q after a retried update", got)
	}
	puts := e.requests(http.MethodPut, path)
	if !slices.Equal(statuses(puts), []int{500, 200}) ||
		puts[0].Message != "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout" || puts[0].Fault == "" {
		t.Errorf("PUT requests %+v", puts)
	}

	// A plain 500 on a mutation is never sent again: PVE may have acted.
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultStatus, Method: http.MethodPut, Path: path, Status: 500, Message: "unexpected failure", Count: 1})
	err := c.UpdateContainerConfig(ctx, node, vmid, pveapi.NewParams().SetInt("memory", 1024), "")
	wantAPIError(t, err, http.StatusInternalServerError, "unexpected failure")
	if n := len(e.requests(http.MethodPut, path)); n != 3 {
		t.Errorf("%d PUT requests, want 3 (the plain 500 not retried)", n)
	}
	if got := e.container(vmid).Config["memory"]; got != "768" {
		t.Errorf("memory %q after a failed update", got)
	}
}

func testProxyErrorNotRetried(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	vmid := e.create("web1")
	const path = "/nodes/pve/lxc/100/status/current"
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultBrokenPipe, Method: http.MethodGet, Path: path, Count: 1})
	_, err := c.ContainerStatus(ctx, node, vmid)
	wantAPIError(t, err, pveapi.StatusProxyError, "Broken pipe")
	if got := statuses(e.requests(http.MethodGet, path)); !slices.Equal(got, []int{596}) {
		t.Errorf("GET statuses %v, want one 596 (not retried)", got)
	}
	// The fault was a single one: a retry would have succeeded.
	if st, err := c.ContainerStatus(ctx, node, vmid); err != nil || st.VMID != vmid {
		t.Errorf("ContainerStatus after the fault = %+v, %v", st, err)
	}

	// Other 5xx answers on reads are retried.
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultStatus, Method: http.MethodGet, Path: path, Status: 502, Count: 2})
	st, err := c.ContainerStatus(ctx, node, vmid)
	if err != nil || st.VMID != vmid {
		t.Fatalf("ContainerStatus through two 502s = %+v, %v", st, err)
	}
	if got := statuses(e.requests(http.MethodGet, path)); !slices.Equal(got, []int{596, 200, 502, 502, 200}) {
		t.Errorf("GET statuses %v", got)
	}
}

func testDroppedConnection(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultDrop, Method: http.MethodGet, Path: "/version", Count: 2})
	v, err := c.Version(ctx)
	if err != nil || v.Version == "" {
		t.Fatalf("Version through two dropped connections = %+v, %v", v, err)
	}
	if got := statuses(e.requests(http.MethodGet, "/version")); !slices.Equal(got, []int{0, 0, 200}) {
		t.Errorf("GET /version statuses %v, want two drops then 200", got)
	}

	// A mutation whose connection dropped is not sent again.
	vmid := e.create("web1")
	const start = "/nodes/pve/lxc/100/status/start"
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultDrop, Method: http.MethodPost, Path: start, Count: 1})
	if _, err := c.StartContainer(ctx, node, vmid); err == nil {
		t.Error("a start whose connection dropped succeeded")
	}
	if got := statuses(e.requests(http.MethodPost, start)); !slices.Equal(got, []int{0}) {
		t.Errorf("POST start statuses %v, want a single dropped attempt", got)
	}
	if e.container(vmid).Status != "stopped" {
		t.Error("the container started although the request never reached the handler")
	}
}

func testTicketExpiry(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	_, err := c.Version(ctx)
	mustOK(t, "Version", err)
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultTicketExpiry, Method: http.MethodGet, Path: "/nodes", Count: 1})
	nodes, err := c.Nodes(ctx)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("Nodes after the tickets expired = %+v, %v", nodes, err)
	}
	got := statuses(e.requests(http.MethodGet, "/nodes"))
	logins := e.requests(http.MethodPost, "/access/ticket")
	if e.mode.tickets {
		// One 401, one fresh login with the password, one successful retry.
		if !slices.Equal(got, []int{401, 200}) || !slices.Equal(statuses(logins), []int{200, 200}) {
			t.Errorf("GET /nodes statuses %v, logins %v", got, statuses(logins))
		}
		return
	}
	// Tokens do not expire with tickets.
	if !slices.Equal(got, []int{200}) || len(logins) != 0 {
		t.Errorf("GET /nodes statuses %v, logins %d", got, len(logins))
	}
}

func testParallelAutoVMIDs(e *env) {
	t, ctx, c := e.t, e.ctx, e.c
	const n = 6
	vmids := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			vmid, res, err := c.CreateContainerAuto(ctx, node, containerParams(fmt.Sprintf("web%d", i)))
			if err == nil && res.ExitStatus != "OK" {
				err = fmt.Errorf("exit status %q", res.ExitStatus)
			}
			vmids[i], errs[i] = vmid, err
		})
	}
	wg.Wait()
	for i, err := range errs {
		mustOK(t, fmt.Sprintf("create %d", i), err)
	}
	slices.Sort(vmids)
	if !slices.Equal(vmids, []int{100, 101, 102, 103, 104, 105}) {
		t.Errorf("allocated VMIDs %v", vmids)
	}
	if got := len(e.sim.Containers()); got != n {
		t.Errorf("the simulator has %d containers, want %d", got, n)
	}
	for _, r := range e.requests(http.MethodPost, "/nodes/pve/lxc") {
		if r.Status != http.StatusOK {
			t.Errorf("a create collided: %+v", r)
		}
	}
}

// TestTicketRenewal shows the password mode renewing its ticket before the
// 2 h lifetime ends, using the simulator's clock, without any 401.
func TestTicketRenewal(t *testing.T) {
	clock := clocktest.New(time.Now())
	mode := authModes[1]
	e := newEnv(t, mode, []pvesimtest.Option{pvesimtest.WithClock(clock.Now)}, func(cfg *pveapi.Config) { cfg.Now = clock.Now })
	_, err := e.c.Version(e.ctx)
	mustOK(t, "Version", err)
	clock.Advance(100 * time.Minute)
	_, err = e.c.Version(e.ctx)
	mustOK(t, "Version after 100 minutes", err)
	clock.Advance(100 * time.Minute)
	_, err = e.c.Version(e.ctx)
	mustOK(t, "Version after 200 minutes", err)
	if got := statuses(e.requests(http.MethodGet, "/version")); !slices.Equal(got, []int{200, 200, 200}) {
		t.Errorf("GET /version statuses %v, want no 401", got)
	}
	logins := e.requests(http.MethodPost, "/access/ticket")
	if !slices.Equal(statuses(logins), []int{200, 200, 200}) {
		t.Errorf("logins %v, want the login and two renewals", statuses(logins))
	}
	e.checkAuthentication()
}

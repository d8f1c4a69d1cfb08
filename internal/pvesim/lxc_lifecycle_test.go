package pvesim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

func TestStartStopShutdownRebootRules(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	c.do(http.MethodPost, "/nodes/pve/lxc/100/status/stop", url.Values{}).wantErr(t, 500, "CT 100 not running")
	c.do(http.MethodPost, "/nodes/pve/lxc/100/status/shutdown", url.Values{}).wantErr(t, 500, "CT 100 not running")
	c.do(http.MethodPost, "/nodes/pve/lxc/100/status/reboot", url.Values{}).wantErr(t, 500, "VM 100 not running")
	c.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{"skiplock": {"1"}}).
		wantParamErr(t, map[string]string{"skiplock": "Only root may use this option."})
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{})
	if _, running := sim.Memory().Running(100); !running {
		t.Fatal("backend container not running after start")
	}
	cur := c.do(http.MethodGet, "/nodes/pve/lxc/100/status/current", nil).ok(t).object(t)
	if cur["status"] != "running" || cur["vmid"] != float64(100) || cur["name"] != "CT100" || cur["maxmem"] != float64(512<<20) ||
		cur["pid"] == nil || !jsonEqual(cur["ha"], `{"managed":0}`) {
		t.Errorf("status/current = %v", cur)
	}
	c.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{}).wantErr(t, 500, "CT 100 already running")
	c.do(http.MethodDelete, "/nodes/pve/lxc/100", nil).wantErr(t, 500, "unable to destroy CT 100 - container is running")
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/status/shutdown", url.Values{"timeout": {"30"}, "forceStop": {"1"}})
	if _, running := sim.Memory().Running(100); running {
		t.Fatal("backend container still running after shutdown")
	}
	var list []map[string]any
	c.do(http.MethodGet, "/nodes/pve/lxc", nil).ok(t).decode(t, &list)
	if len(list) != 1 || list[0]["vmid"] != float64(100) || list[0]["status"] != "stopped" {
		t.Errorf("lxc list = %v", list)
	}
}

func TestInterfacesNullWhenStopped(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"net0": {"name=eth0,bridge=vmbr0,ip=192.0.2.10/24,gw=192.0.2.1"}, "net1": {"name=eth1,bridge=vmbr0,ip=dhcp"}})
	r := c.do(http.MethodGet, "/nodes/pve/lxc/100/interfaces", nil).ok(t)
	if string(r.Data) != "null" {
		t.Fatalf("interfaces of a stopped CT = %s, want null", r.Data)
	}
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{})
	var ifaces []map[string]any
	c.do(http.MethodGet, "/nodes/pve/lxc/100/interfaces", nil).ok(t).decode(t, &ifaces)
	if len(ifaces) != 3 || ifaces[0]["name"] != "lo" || ifaces[1]["inet"] != "192.0.2.10/24" || ifaces[2]["inet"] != "10.77.0.10/24" {
		t.Fatalf("interfaces = %v", ifaces)
	}
	ct, _ := sim.Container(100)
	if !strings.Contains(ct.Config["net0"], "hwaddr="+strings.ToUpper(ifaces[1]["hwaddr"].(string))) {
		t.Errorf("hwaddr %v does not match net0 %q", ifaces[1]["hwaddr"], ct.Config["net0"])
	}
	// Every address is listed, the link-local IPv6 one included, and inet6
	// is the last IPv6 address, as PVE's get_interfaces fills it.
	ll := backend.LinkLocalIPv6(ifaces[1]["hwaddr"].(string)).String()
	lladdr, _, _ := strings.Cut(ll, "/")
	want := `{"name":"eth0","hwaddr":"` + ifaces[1]["hwaddr"].(string) + `","hardware-address":"` + ifaces[1]["hwaddr"].(string) + `",` +
		`"inet":"192.0.2.10/24","inet6":"` + ll + `","ip-addresses":[` +
		`{"ip-address":"192.0.2.10","ip-address-type":"inet","prefix":24},` +
		`{"ip-address":"` + lladdr + `","ip-address-type":"inet6","prefix":64}]}`
	if !jsonEqual(ifaces[1], want) {
		t.Errorf("eth0 = %v\nwant %s", ifaces[1], want)
	}
	if !jsonEqual(ifaces[0], `{"name":"lo","hwaddr":"00:00:00:00:00:00","hardware-address":"00:00:00:00:00:00","inet":"127.0.0.1/8","inet6":"::1/128",`+
		`"ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"inet","prefix":8},{"ip-address":"::1","ip-address-type":"inet6","prefix":128}]}`) {
		t.Errorf("lo = %v", ifaces[0])
	}
}

// With a global IPv6 address the link-local one still comes last, so PVE's
// inet6 shows the link-local address; ip-addresses has both.
func TestInterfacesListEveryIPv6Address(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"net0": {"name=eth0,bridge=vmbr0,ip=manual,ip6=2001:db8::10/64,hwaddr=BC:24:11:00:00:10"}, "start": {"1"}})
	var ifaces []map[string]any
	c.do(http.MethodGet, "/nodes/pve/lxc/100/interfaces", nil).ok(t).decode(t, &ifaces)
	want := `{"name":"eth0","hwaddr":"bc:24:11:00:00:10","hardware-address":"bc:24:11:00:00:10",` +
		`"inet6":"fe80::be24:11ff:fe00:10/64","ip-addresses":[` +
		`{"ip-address":"2001:db8::10","ip-address-type":"inet6","prefix":64},` +
		`{"ip-address":"fe80::be24:11ff:fe00:10","ip-address-type":"inet6","prefix":64}]}`
	if len(ifaces) != 2 || !jsonEqual(ifaces[1], want) {
		t.Errorf("interfaces = %v\nwant eth0 %s", ifaces, want)
	}
}

func TestResizeRules(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"rootfs": {"local-lvm:8"}})
	c.do(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {"4G"}}).wantErr(t, 500, "unable to shrink disk size")
	c.do(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {"8G"}}).wantErr(t, 500, "disk is already at specified size")
	c.do(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {"8589934592"}}).wantErr(t, 500, "disk is already at specified size")
	c.mustTask(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {"+2G"}})
	if ct, _ := sim.Container(100); ct.Config["rootfs"] != "local-lvm:vm-100-disk-0,size=10G" {
		t.Errorf("rootfs = %q", ct.Config["rootfs"])
	}
	c.mustTask(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {"12G"}})
	if v := sim.Volumes("pve", "local-lvm"); v[0].Size != 12<<30 {
		t.Errorf("volume size = %d", v[0].Size)
	}
	c.do(http.MethodPut, "/nodes/pve/lxc/100/resize", url.Values{"disk": {"rootfs"}, "size": {"1G"}}).wantErr(t, 500, "unable to shrink disk size")
}

func TestTemplateAndClones(t *testing.T) {
	sim := pvesimtest.New(t, pvesimtest.WithTemplates(debian12), pvesimtest.WithTaskDuration(5*time.Millisecond), pvesimtest.WithTaskDurationFor("vzclone", 300*time.Millisecond))
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"net0": {"name=eth0,bridge=vmbr0,ip=dhcp"}, "hostname": {"golden"}})
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{})
	c.do(http.MethodPost, "/nodes/pve/lxc/100/template", url.Values{}).wantErr(t, 500, "you can't convert a CT to template if the CT is running")
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/status/stop", url.Values{})
	r := c.do(http.MethodPost, "/nodes/pve/lxc/100/template", url.Values{}).ok(t)
	if string(r.Data) != "null" {
		t.Fatalf("template returned %s, want null", r.Data)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ct, _ := sim.Container(100)
		if ct.Config["template"] == "1" {
			if ct.Config["rootfs"] != "local-lvm:base-100-disk-0,size=4G" {
				t.Errorf("template rootfs = %q", ct.Config["rootfs"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("template: 1 never appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.do(http.MethodPost, "/nodes/pve/lxc/100/template", url.Values{}).wantErr(t, 500, "you can't convert a template to a template")
	c.do(http.MethodPost, "/nodes/pve/lxc/100/clone", url.Values{"newid": {"101"}, "storage": {"local-lvm"}}).
		wantErr(t, 500, "parameter 'storage' not allowed for linked clones")

	upid := c.do(http.MethodPost, "/nodes/pve/lxc/100/clone", url.Values{"newid": {"101"}, "hostname": {"clone1"}}).ok(t).str(t)
	src, _ := sim.Container(100)
	dst, _ := sim.Container(101)
	if src.Lock != "disk" || dst.Lock != "create" {
		t.Errorf("during clone: source lock %q, target lock %q", src.Lock, dst.Lock)
	}
	if st := c.waitTask("pve", upid); st["exitstatus"] != "OK" {
		t.Fatalf("clone: %v %q", st, sim.TaskLog(upid))
	}
	src, _ = sim.Container(100)
	dst, _ = sim.Container(101)
	if src.Lock != "" || dst.Lock != "" || dst.Config["hostname"] != "clone1" || dst.Config["template"] != "" {
		t.Errorf("after clone: source %v target %v", src.Config, dst.Config)
	}
	if dst.Config["rootfs"] != "local-lvm:base-100-disk-0/vm-101-disk-0,size=4G" {
		t.Errorf("linked clone rootfs = %q", dst.Config["rootfs"])
	}
	if src.Config["net0"] == dst.Config["net0"] {
		t.Error("clone kept the template's MAC address")
	}
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/clone", url.Values{"newid": {"102"}, "full": {"1"}})
	if full, _ := sim.Container(102); full.Config["rootfs"] != "local-lvm:vm-102-disk-0,size=4G" {
		t.Errorf("full clone rootfs = %q", full.Config["rootfs"])
	}
	c.do(http.MethodPost, "/nodes/pve/lxc/100/clone", url.Values{"newid": {"101"}}).wantErr(t, 500, "CT 101 already exists on node 'pve'")
	// A template with linked clones keeps its base volume.
	upid = c.do(http.MethodDelete, "/nodes/pve/lxc/100", nil).ok(t).str(t)
	if st := c.waitTask("pve", upid); st["exitstatus"] != "base volume 'base-100-disk-0' is still in use by linked clones" {
		t.Errorf("destroy template: %v", st["exitstatus"])
	}
	c.mustTask(http.MethodDelete, "/nodes/pve/lxc/101", url.Values{"purge": {"1"}})
	c.mustTask(http.MethodDelete, "/nodes/pve/lxc/100", url.Values{"purge": {"1"}, "destroy-unreferenced-disks": {"1"}})
	if vols := sim.Volumes("pve", "local-lvm"); len(vols) != 1 || vols[0].VMID != 102 {
		t.Errorf("volumes after destroys = %+v", vols)
	}
}

func TestDestroyLocksDestroyedAndRemovesEverything(t *testing.T) {
	sim := pvesimtest.New(t, pvesimtest.WithTemplates(debian12), pvesimtest.WithTaskDuration(5*time.Millisecond), pvesimtest.WithTaskDurationFor("vzdestroy", 300*time.Millisecond))
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"rootfs": {"local-lvm:4"}, "mp0": {"local-lvm:1,mp=/data"}, "start": {"1"}})
	upid := c.do(http.MethodDelete, "/nodes/pve/lxc/100", url.Values{"force": {"1"}, "purge": {"1"}}).ok(t).str(t)
	time.Sleep(100 * time.Millisecond)
	if cur := c.do(http.MethodGet, "/nodes/pve/lxc/100/status/current", nil).ok(t).object(t); cur["lock"] != "destroyed" {
		t.Errorf("lock during destroy = %v", cur["lock"])
	}
	if st := c.waitTask("pve", upid); st["exitstatus"] != "OK" {
		t.Fatalf("destroy: %v", st)
	}
	if _, ok := sim.Container(100); ok || len(sim.Volumes("pve", "local-lvm")) != 0 {
		t.Error("destroy left config or volumes")
	}
	if exists, _ := sim.Memory().Running(100); exists {
		t.Error("backend container survived destroy")
	}
	c.createCT("101", url.Values{"protection": {"1"}})
	c.do(http.MethodDelete, "/nodes/pve/lxc/101", nil).wantErr(t, 500, "can't remove CT 101 - protection mode enabled")
}

func TestOutOfBandDeletion(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	if err := sim.DeleteContainerOutOfBand(100); err != nil {
		t.Fatal(err)
	}
	c.do(http.MethodGet, "/nodes/pve/lxc/100/status/current", nil).wantErr(t, 500, "Configuration file 'nodes/pve/lxc/100.conf' does not exist")
	var res []map[string]any
	c.do(http.MethodGet, "/cluster/resources", url.Values{"type": {"vm"}}).ok(t).decode(t, &res)
	if len(res) != 0 {
		t.Errorf("resources = %v", res)
	}
}

// TestOutOfBandConfigEdit: a config edited on the node is what the API
// returns, unchecked, and what a restart reads back.
func TestOutOfBandConfigEdit(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	err := sim.EditConfigOutOfBand(100, func(text string) string {
		return strings.Replace(text, "memory: 512", "memory: 512.5", 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).decode(t, &cfg)
	if cfg["memory"] != "512.5" && cfg["memory"] != 512.5 {
		t.Errorf("memory = %#v, want the edited 512.5", cfg["memory"])
	}
	if err := sim.EditConfigOutOfBand(101, func(s string) string { return s }); err == nil {
		t.Error("editing a missing container succeeded")
	}
	if err := sim.EditConfigOutOfBand(100, func(string) string { return "no colon here\n" }); err == nil {
		t.Error("a text that is no config file was accepted")
	}
}

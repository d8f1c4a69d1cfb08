package pvesim_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

func TestCreateWritesLockCreateThenFinalConfigWithDefaults(t *testing.T) {
	sim := pvesimtest.New(t, pvesimtest.WithTemplates(debian12), pvesimtest.WithTaskDurationFor("vzcreate", 400*time.Millisecond), pvesimtest.WithTaskDuration(5*time.Millisecond))
	c := tokenClient(t, sim)
	upid := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{
		"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"},
		"net0": {"bridge=vmbr0,name=eth0,ip=dhcp"}, "password": {"secret1"},
	}).ok(t).str(t)

	// While the task runs the config holds only the create lock.
	cur := c.do(http.MethodGet, "/nodes/pve/lxc/100/status/current", nil).ok(t).object(t)
	if cur["lock"] != "create" || cur["status"] != "stopped" {
		t.Fatalf("status during create = %v", cur)
	}
	conf := c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).object(t)
	if len(conf) != 2 || conf["lock"] != "create" || conf["digest"] == "" {
		t.Fatalf("config during create = %v", conf)
	}
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"memory": {"1024"}}).wantErr(t, 500, "CT is locked (create)")
	c.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{}).wantErr(t, 500, "CT is locked (create)")

	st := c.waitTask("pve", upid)
	if st["exitstatus"] != "OK" {
		t.Fatalf("create: %v %q", st, sim.TaskLog(upid))
	}
	conf = c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).object(t)
	want := map[string]any{
		"arch": "amd64", "hostname": "CT100", "memory": float64(512), "swap": float64(512),
		"ostype": "debian", "unprivileged": float64(1), "rootfs": "local-lvm:vm-100-disk-0,size=4G",
	}
	for k, v := range want {
		if conf[k] != v {
			t.Errorf("config[%s] = %#v, want %#v", k, conf[k], v)
		}
	}
	if _, ok := conf["lock"]; ok {
		t.Errorf("lock still set after create: %v", conf)
	}
	if _, ok := conf["password"]; ok {
		t.Error("password stored in the config")
	}
	net0, _ := conf["net0"].(string)
	if !regexp.MustCompile(`^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},ip=dhcp,type=veth$`).MatchString(net0) {
		t.Errorf("net0 = %q, want canonical order with a BC:24:11 hwaddr", net0)
	}
	vols := sim.Volumes("pve", "local-lvm")
	if len(vols) != 1 || vols[0].VolID != "local-lvm:vm-100-disk-0" || vols[0].Size != 4<<30 || vols[0].VMID != 100 {
		t.Errorf("volumes = %+v", vols)
	}
	if exists, running := sim.Memory().Running(100); !exists || running {
		t.Errorf("backend: exists %v running %v", exists, running)
	}
}

func TestCreateFailsInTaskWhenTemplateFileIsMissing(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	missing := "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"
	upid := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"100"}, "ostemplate": {missing}, "storage": {"local-lvm"}}).ok(t).str(t)
	st := c.waitTask("pve", upid)
	if want := "unable to create CT 100 - can't find file '" + missing + "'"; st["exitstatus"] != want {
		t.Fatalf("exitstatus = %v, want %q", st["exitstatus"], want)
	}
	log := sim.TaskLog(upid)
	if !strings.Contains(strings.Join(log, "\n"), `Logical volume "vm-100-disk-0" successfully removed.`) {
		t.Errorf("log does not show the disk being removed: %q", log)
	}
	if _, ok := sim.Container(100); ok {
		t.Error("config of the failed create still exists")
	}
	c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).wantErr(t, 500, "Configuration file 'nodes/pve/lxc/100.conf' does not exist")
	if vols := sim.Volumes("pve", "local-lvm"); len(vols) != 0 {
		t.Errorf("volumes left behind: %+v", vols)
	}
	if got := c.do(http.MethodGet, "/cluster/nextid", nil).ok(t).str(t); got != "100" {
		t.Errorf("nextid = %q, want the freed 100", got)
	}
}

func TestCreateSynchronousChecks(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	tests := []struct {
		name   string
		params url.Values
		check  func(*testing.T, apiResp)
	}{
		{"vmid in use", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}},
			func(t *testing.T, r apiResp) { r.wantErr(t, 500, "CT 100 already exists on node 'pve'") }},
		{"default storage local has no rootdir", url.Values{"vmid": {"101"}, "ostemplate": {debianVol}},
			func(t *testing.T, r apiResp) {
				r.wantParamErr(t, map[string]string{"storage": "storage 'local' does not support container directories"})
			}},
		{"rootfs on local", url.Values{"vmid": {"101"}, "ostemplate": {debianVol}, "rootfs": {"local:8"}},
			func(t *testing.T, r apiResp) {
				r.wantParamErr(t, map[string]string{"storage": "storage 'local' does not support container directories"})
			}},
		{"unknown storage", url.Values{"vmid": {"101"}, "ostemplate": {debianVol}, "storage": {"nosuch"}},
			func(t *testing.T, r apiResp) { r.wantErr(t, 500, "storage 'nosuch' does not exist") }},
		{"iso as template", url.Values{"vmid": {"101"}, "ostemplate": {"local:iso/debian.iso"}, "storage": {"local-lvm"}},
			func(t *testing.T, r apiResp) {
				r.wantErr(t, 500, "unable to use volume local:iso/debian.iso - content type needs to be 'vztmpl'")
			}},
		{"short password", url.Values{"vmid": {"101"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}, "password": {"abc"}},
			func(t *testing.T, r apiResp) {
				r.wantParamErr(t, map[string]string{"password": "value must be at least 5 characters long"})
			}},
		{"mount point without rootfs", url.Values{"vmid": {"101"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}, "mp0": {"local-lvm:1,mp=/data"}},
			func(t *testing.T, r apiResp) {
				r.wantErr(t, 500, "mount points configured, but 'rootfs' not set - aborting")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, c.do(http.MethodPost, "/nodes/pve/lxc", tc.params))
		})
	}
	if n := len(sim.Containers()); n != 1 {
		t.Errorf("%d containers after failed creates, want 1", n)
	}
}

func TestCreateWithMountPointsTagsAndStart(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("120", url.Values{
		"rootfs": {"local-lvm:8"}, "mp0": {"local-lvm:2.5,mp=/srv/data,backup=1"}, "tags": {"B,a a"},
		"hostname": {"web.example.com"}, "start": {"1"}, "unprivileged": {"0"}, "description": {"hello"},
	})
	ct, _ := sim.Container(120)
	if ct.Status != "running" {
		t.Errorf("status = %s, want running (start=1)", ct.Status)
	}
	want := map[string]string{
		"rootfs": "local-lvm:vm-120-disk-0,size=8G", "mp0": "local-lvm:vm-120-disk-1,mp=/srv/data,backup=1,size=2560M",
		"tags": "a;b", "hostname": "web.example.com", "description": "hello\n",
	}
	for k, v := range want {
		if ct.Config[k] != v {
			t.Errorf("%s = %q, want %q", k, ct.Config[k], v)
		}
	}
	if _, ok := ct.Config["unprivileged"]; ok {
		t.Errorf("privileged CT has unprivileged key: %q", ct.Config["unprivileged"])
	}
	if !strings.HasPrefix(ct.ConfigText, "#hello\narch: amd64\n") {
		t.Errorf("config text = %q", ct.ConfigText)
	}
}

func TestCreateKeepsContainerWhenStartFails(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Path: "/nodes/*/lxc", Method: http.MethodPost, Count: 1})
	// The lock fault makes the request's own lock fail before anything exists.
	c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}).
		wantErr(t, 500, "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout")
	if _, ok := sim.Container(100); ok {
		t.Fatal("config written despite the lock timeout")
	}
	// A failing start after a good create keeps the container.
	upid := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"101"}, "ostemplate": {debianVol}, "storage": {"local-lvm"},
		"start": {"1"}, "template": {"1"}}).ok(t).str(t)
	if st := c.waitTask("pve", upid); st["exitstatus"] != "you can't start a CT if it's a template" {
		t.Fatalf("exitstatus = %v", st["exitstatus"])
	}
	if ct, ok := sim.Container(101); !ok || ct.Status != "stopped" || ct.Lock != "" {
		t.Errorf("container after failed start: %+v %v", ct, ok)
	}
}

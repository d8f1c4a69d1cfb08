package pvesim_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// makeTemplate creates CT vmid with extra and converts it to a template,
// waiting until the config says so.
func makeTemplate(t *testing.T, sim *pvesimtest.Sim, c *apiClient, vmid string, extra url.Values) {
	t.Helper()
	c.createCT(vmid, extra)
	c.do(http.MethodPost, "/nodes/pve/lxc/"+vmid+"/template", url.Values{}).ok(t)
	waitFor(t, "template: 1", func() bool {
		ct, _ := sim.Container(atoi(t, vmid))
		return ct.Config["template"] == "1" && ct.Lock == ""
	})
}

// A template cannot start; a linked clone shares its volume (the backend
// knows which template it stacks on) and keeps it from being destroyed;
// PVE's refusals of what cannot be cloned come before any task.
func TestTemplateSemantics(t *testing.T) {
	dirStorage := pvesim.StorageConfig{ID: "local-dir", Type: "dir", Content: []string{"images", "rootdir"}, Path: "/mnt/local-dir", Total: 50 << 30}
	sim := fastSim(t, pvesimtest.WithNodes("pve", "pve2"), pvesimtest.WithStorages(append(pvesim.DefaultStorages(), dirStorage)...))
	c := tokenClient(t, sim)
	makeTemplate(t, sim, c, "100", url.Values{"hostname": {"golden"}})

	upid := c.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{}).ok(t).str(t)
	if st := c.waitTask("pve", upid); st["exitstatus"] != "you can't start a CT if it's a template" {
		t.Errorf("starting a template: %v", st["exitstatus"])
	}
	if tpl, _ := sim.Memory().TemplateInfo(100); !tpl {
		t.Error("the backend does not know CT 100 is a template")
	}

	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/clone", url.Values{"newid": {"101"}, "hostname": {"web-1"}})
	if _, linkedTo := sim.Memory().TemplateInfo(101); linkedTo != 100 {
		t.Errorf("the backend has CT 101 linked to %d, want 100", linkedTo)
	}
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/clone", url.Values{"newid": {"102"}, "full": {"1"}})
	if _, linkedTo := sim.Memory().TemplateInfo(102); linkedTo != 0 {
		t.Errorf("a full clone is linked to %d", linkedTo)
	}
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/101/status/start", url.Values{})

	for _, tc := range []struct {
		name, vmid string
		params     url.Values
		want       string
	}{
		{"linked clone of a container", "102", url.Values{"newid": {"110"}, "full": {"0"}}, "Linked clone feature for 'local-lvm:vm-102-disk-0' is not available"},
		{"full clone of a running container", "101", url.Values{"newid": {"110"}}, "Full clone of a running container is only possible from a snapshot"},
		{"clone to a node without the storage", "100", url.Values{"newid": {"110"}, "target": {"pve2"}}, "can't clone CT to node 'pve2' (CT uses local storage)"},
		{"clone to an unknown node", "100", url.Values{"newid": {"110"}, "target": {"nowhere"}}, "no such cluster node 'nowhere'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.do(http.MethodPost, "/nodes/pve/lxc/"+tc.vmid+"/clone", tc.params).wantErr(t, 500, tc.want)
		})
	}
	t.Run("linked clone on a directory storage", func(t *testing.T) {
		makeTemplate(t, sim, c, "120", url.Values{"storage": {"local-dir"}})
		c.do(http.MethodPost, "/nodes/pve/lxc/120/clone", url.Values{"newid": {"121"}}).
			wantErr(t, 500, "Linked clone feature for 'local-dir:120/base-120-disk-0.raw' is not available")
		c.mustTask(http.MethodPost, "/nodes/pve/lxc/120/clone", url.Values{"newid": {"121"}, "full": {"1"}, "storage": {"local-lvm"}})
	})

	upid = c.do(http.MethodDelete, "/nodes/pve/lxc/100", url.Values{"purge": {"1"}}).ok(t).str(t)
	if st := c.waitTask("pve", upid); st["exitstatus"] != "base volume 'base-100-disk-0' is still in use by linked clones" {
		t.Errorf("destroying a template with a linked clone: %v", st["exitstatus"])
	}
	c.mustTask(http.MethodDelete, "/nodes/pve/lxc/101", url.Values{"purge": {"1"}, "force": {"1"}})
	c.mustTask(http.MethodDelete, "/nodes/pve/lxc/100", url.Values{"purge": {"1"}})
	if _, ok := sim.Container(100); ok {
		t.Error("the template is still there after its last linked clone went")
	}
}

// Templates and linked clones survive a restart: the restored backend
// still refuses to start the template or destroy it under its clone.
func TestTemplateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	sim := startIn(t, dir, pvesimtest.WithTemplates(debian12))
	c := tokenClient(t, sim)
	makeTemplate(t, sim, c, "100", nil)
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/clone", url.Values{"newid": {"101"}})
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}

	sim2 := startIn(t, dir, pvesimtest.WithTemplates(debian12))
	c2 := tokenClient(t, sim2)
	if tpl, _ := sim2.Memory().TemplateInfo(100); !tpl {
		t.Error("CT 100 is no template in the restored backend")
	}
	if _, linkedTo := sim2.Memory().TemplateInfo(101); linkedTo != 100 {
		t.Errorf("CT 101 is linked to %d in the restored backend, want 100", linkedTo)
	}
	upid := c2.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{}).ok(t).str(t)
	if st := c2.waitTask("pve", upid); st["exitstatus"] != "you can't start a CT if it's a template" {
		t.Errorf("starting the template after a restart: %v", st["exitstatus"])
	}
	upid = c2.do(http.MethodDelete, "/nodes/pve/lxc/100", nil).ok(t).str(t)
	if st := c2.waitTask("pve", upid); st["exitstatus"] != "base volume 'base-100-disk-0' is still in use by linked clones" {
		t.Errorf("destroying the template after a restart: %v", st["exitstatus"])
	}
	c2.mustTask(http.MethodPost, "/nodes/pve/lxc/101/status/start", url.Values{})
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

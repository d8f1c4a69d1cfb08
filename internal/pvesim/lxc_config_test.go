package pvesim_test

import (
	"context"
	"crypto/sha1" //nolint:gosec // PVE's config digest is a SHA-1
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

func TestConfigTagsDescriptionAndTypes(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{
		"tags": {"B,a a"}, "description": {"line one\n\nline: two\n"}, "onboot": {"1"}, "cpulimit": {"1.5"},
	}).ok(t)
	conf := c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).object(t)
	if conf["tags"] != "a;b" {
		t.Errorf("tags = %v, want a;b", conf["tags"])
	}
	if conf["description"] != "line one\n\nline: two\n" {
		t.Errorf("description = %q", conf["description"])
	}
	if conf["onboot"] != float64(1) || conf["memory"] != float64(512) {
		t.Errorf("booleans and integers must be numbers: onboot %#v memory %#v", conf["onboot"], conf["memory"])
	}
	if conf["cpulimit"] != "1.5" {
		t.Errorf("cpulimit = %#v, want the string PVE sends", conf["cpulimit"])
	}
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"description": {"hello"}}).ok(t)
	conf = c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).object(t)
	if conf["description"] != "hello\n" {
		t.Errorf("description = %q, want a trailing newline", conf["description"])
	}
	ct, _ := sim.Container(100)
	if !strings.HasPrefix(ct.ConfigText, "#hello\n") {
		t.Errorf("config text = %q", ct.ConfigText)
	}
	// The digest is the SHA-1 of the config file.
	if conf["digest"] != fmt.Sprintf("%x", sha1.Sum([]byte(ct.ConfigText))) || len(ct.Digest) != 40 {
		t.Errorf("digest %v does not match the config text", conf["digest"])
	}
}

func TestConfigPutRules(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"cores": {"1"}})
	digest := c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).object(t)["digest"].(string)
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"cores": {"2"}, "digest": {digest}}).ok(t)
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"cores": {"3"}, "digest": {digest}}).
		wantErr(t, 500, "detected modified configuration - file changed by other user? Try again.")
	tests := []struct {
		name   string
		params url.Values
		check  func(*testing.T, apiResp)
	}{
		{"nothing to do", url.Values{}, func(t *testing.T, r apiResp) { r.wantErr(t, 500, "no options specified") }},
		{"digest alone", url.Values{"digest": {digest}}, func(t *testing.T, r apiResp) { r.wantErr(t, 500, "no options specified") }},
		{"delete unknown", url.Values{"delete": {"foo"}}, func(t *testing.T, r apiResp) {
			r.wantParamErr(t, map[string]string{"delete": "unknown option 'foo'"})
		}},
		{"set and delete", url.Values{"delete": {"cores"}, "cores": {"2"}}, func(t *testing.T, r apiResp) {
			r.wantParamErr(t, map[string]string{"delete": "you can't use '-cores' and -delete cores' at the same time"})
		}},
		{"delete required", url.Values{"delete": {"memory"}}, func(t *testing.T, r apiResp) {
			r.wantErr(t, 500, "unable to delete required option 'memory'")
		}},
		{"unprivileged read-only", url.Values{"unprivileged": {"0"}}, func(t *testing.T, r apiResp) {
			r.wantErr(t, 500, "unable to modify read-only option: 'unprivileged'")
		}},
		{"delete unprivileged", url.Values{"delete": {"unprivileged"}}, func(t *testing.T, r apiResp) {
			r.wantErr(t, 500, "unable to delete read-only option: 'unprivileged'")
		}},
		{"delete unset key is fine", url.Values{"delete": {"nameserver"}}, func(t *testing.T, r apiResp) { r.ok(t) }},
		{"true is not a boolean", url.Values{"onboot": {"true"}}, func(t *testing.T, r apiResp) {
			r.wantParamErr(t, map[string]string{"onboot": "type check ('boolean') failed - got 'true'"})
		}},
		{"bad net0 sub-key", url.Values{"net0": {"name=eth0,bogus=1"}}, func(t *testing.T, r apiResp) {
			r.wantParamErr(t, map[string]string{"net0": "invalid format - invalid key in comma-separated list property: bogus\n"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, c.do(http.MethodPut, "/nodes/pve/lxc/100/config", tc.params))
		})
	}
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"delete": {"cores"}}).ok(t)
	if ct, _ := sim.Container(100); ct.Config["cores"] != "" {
		t.Errorf("cores not deleted: %v", ct.Config)
	}
	c.do(http.MethodPut, "/nodes/pve/lxc/999/config", url.Values{"cores": {"1"}}).
		wantErr(t, 500, "Configuration file 'nodes/pve/lxc/999.conf' does not exist")
}

func TestPendingChangesOnRunningContainer(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"net0": {"name=eth0,bridge=vmbr0,ip=dhcp"}, "start": {"1"}, "features": {"nesting=1"}})
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{
		"hostname": {"renamed"}, "memory": {"1024"}, "nameserver": {"1.1.1.1"}, "features": {"nesting=0"},
		"mp0": {"local-lvm:1,mp=/data"}, "delete": {"swap"},
	}).ok(t)
	ct, _ := sim.Container(100)
	applied := map[string]string{"hostname": "renamed", "memory": "1024", "mp0": "local-lvm:vm-100-disk-1,mp=/data,size=1G"}
	for k, v := range applied {
		if ct.Config[k] != v {
			t.Errorf("current %s = %q, want %q applied at once", k, ct.Config[k], v)
		}
	}
	if _, ok := ct.Config["swap"]; ok {
		t.Error("swap deletion should be hot-applied")
	}
	if ct.Pending["nameserver"] != "1.1.1.1" || ct.Pending["features"] != "nesting=0" || ct.Config["features"] != "nesting=1" {
		t.Errorf("pending = %v, current features %q", ct.Pending, ct.Config["features"])
	}
	merged := c.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).object(t)
	current := c.do(http.MethodGet, "/nodes/pve/lxc/100/config", url.Values{"current": {"1"}}).ok(t).object(t)
	if merged["nameserver"] != "1.1.1.1" || current["nameserver"] != nil || current["features"] != "nesting=1" {
		t.Errorf("merged %v / current %v", merged["nameserver"], current)
	}
	var pending []map[string]any
	c.do(http.MethodGet, "/nodes/pve/lxc/100/pending", nil).ok(t).decode(t, &pending)
	found := false
	for _, p := range pending {
		if p["key"] == "features" {
			found = p["value"] == "nesting=1" && p["pending"] == "nesting=0"
		}
	}
	if !found {
		t.Errorf("pending list = %v", pending)
	}
	if !strings.Contains(ct.ConfigText, "\n[pve:pending]\n") {
		t.Errorf("config text has no pending section: %q", ct.ConfigText)
	}
	// A restart applies the pending changes.
	c.mustTask(http.MethodPost, "/nodes/pve/lxc/100/status/reboot", url.Values{})
	ct, _ = sim.Container(100)
	if len(ct.Pending) != 0 || ct.Config["nameserver"] != "1.1.1.1" || ct.Config["features"] != "nesting=0" || ct.Status != "running" {
		t.Errorf("after reboot: %v pending %v status %s", ct.Config, ct.Pending, ct.Status)
	}
}

func TestConfigLockTimeout(t *testing.T) {
	sim := fastSim(t, pvesimtest.WithLockTimeouts(150*time.Millisecond, 100*time.Millisecond))
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	// Someone else holds the config lock.
	unlock, err := sim.HoldConfigLock(context.Background(), 100, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"cores": {"2"}}).
		wantErr(t, 500, "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout")
	if time.Since(start) < 150*time.Millisecond {
		t.Error("gave up before the lock timeout")
	}
	unlock()
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"cores": {"2"}}).ok(t)
	// The lock-timeout fault makes the matching request fail the same way.
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Method: http.MethodPut, Path: "/nodes/*/lxc/*/config", Count: 1})
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"cores": {"3"}}).
		wantErr(t, 500, "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout")
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"cores": {"3"}}).ok(t)
	// In a task the timeout becomes the exitstatus.
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Path: "/nodes/*/lxc/*/status/start", Count: 1})
	upid := c.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{}).ok(t).str(t)
	if st := c.waitTask("pve", upid); st["exitstatus"] != "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout" {
		t.Errorf("start with lock fault: %v", st["exitstatus"])
	}
}

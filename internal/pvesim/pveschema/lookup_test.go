package pveschema

import (
	"regexp"
	"testing"
)

// samplePathValues are realistic values for every template parameter of
// the subset; a template parameter missing here fails the test.
var samplePathValues = map[string]string{
	"node":     "pve",
	"vmid":     "100",
	"storage":  "local",
	"volume":   "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
	"upid":     "UPID:pve:000A1B2C:0011D3E4:6740AB12:vzcreate:100:root@pam:",
	"snapname": "before-upgrade",
}

var templateParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// TestLookupResolvesEveryTemplate builds a concrete path for every method
// of the schema and checks it routes back to that method with the right
// parameters.
func TestLookupResolvesEveryTemplate(t *testing.T) {
	api := Default()
	for _, m := range api.Methods() {
		want := map[string]string{}
		path := templateParamRE.ReplaceAllStringFunc(m.Path, func(s string) string {
			name := s[1 : len(s)-1]
			v, ok := samplePathValues[name]
			if !ok {
				t.Fatalf("%s: no sample value for {%s}", m, name)
			}
			want[name] = v
			return v
		})
		got, params, ok := api.Lookup(m.HTTPMethod, path)
		if !ok || got != m {
			t.Errorf("Lookup(%s %s) = %v, %v; want %s", m.HTTPMethod, path, got, ok, m)
			continue
		}
		if len(params) != len(want) {
			t.Errorf("Lookup(%s %s) params %v, want %v", m.HTTPMethod, path, params, want)
		}
		for k, v := range want {
			if params[k] != v {
				t.Errorf("Lookup(%s %s) %s = %q, want %q", m.HTTPMethod, path, k, params[k], v)
			}
		}
		// PVE's router ignores empty fragments.
		if again, _, ok := api.Lookup(m.HTTPMethod, "//"+path+"/"); !ok || again != m {
			t.Errorf("Lookup with extra slashes for %s failed", m)
		}
	}
}

func TestLookupRejectsUnknown(t *testing.T) {
	api := Default()
	for _, c := range []struct{ method, path string }{
		{"GET", "/nodes/pve/foo"},
		{"POST", "/nodes/pve/lxc/100/config"}, // LXC config is PUT only
		{"GET", "/nodes/pve/qemu"},
		{"PATCH", "/version"},
		{"get", "/version"},
		{"GET", "/version/extra"},
		{"GET", "/nodes/pv e/status"},
		{"GET", "/"},
		{"GET", ""},
	} {
		if m, _, ok := api.Lookup(c.method, c.path); ok {
			t.Errorf("Lookup(%s %s) = %s, want not found", c.method, c.path, m)
		}
	}
}

func TestLookupMethodDetails(t *testing.T) {
	api := Default()
	m, _, ok := api.Lookup("POST", "/access/ticket")
	if !ok || m.AllowToken || !m.Protected || m.Name != "create_ticket" || m.ReturnType != "object" {
		t.Errorf("POST /access/ticket: %+v", m)
	}
	m, _, _ = api.Lookup("POST", "/nodes/pve/lxc")
	if !m.AllowToken || m.ProxyTo != "node" || m.ReturnType != "string" || m.Name != "create_vm" {
		t.Errorf("POST /nodes/{node}/lxc: %+v", m)
	}
	m, _, _ = api.Lookup("GET", "/cluster/nextid")
	if m.ReturnType != "integer" || len(m.Permissions) == 0 {
		t.Errorf("GET /cluster/nextid: %+v", m)
	}
	p, ok := m.Param("vmid")
	if !ok || p.Type != "integer" || !p.Optional || p.Format != "pve-vmid" || p.Minimum != "100" || p.Maximum != "999999999" {
		t.Errorf("nextid vmid: %+v", p)
	}
	m, _, _ = api.Lookup("POST", "/nodes/pve/lxc")
	u, _ := m.Param("unprivileged")
	if u.Type != "boolean" || !u.HasDefault || u.Default != "0" {
		t.Errorf("unprivileged: %+v", u)
	}
}

package pvesim_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pveschema"
)

// examplePath fills a schema path template with plausible values.
func examplePath(template string) string {
	r := strings.NewReplacer("{node}", "pve", "{vmid}", "100", "{storage}", "local", "{volume}", "local:vztmpl/x.tar.zst",
		"{upid}", "UPID:pve:00001234:00001234:66000000:vzstart:100:root@pam:", "{snapname}", "snap1")
	return r.Replace(template)
}

// TestSchemaConformanceOfEveryImplementedMethod sends, for every method
// the simulator implements, an unknown parameter and a wrongly typed one,
// and expects PVE's 400 texts for both before any handler runs.
func TestSchemaConformanceOfEveryImplementedMethod(t *testing.T) {
	sim := fastSim(t)
	root := ticketClient(t, sim)
	keys := sim.RouteKeys()
	for _, key := range keys {
		method, template, _ := strings.Cut(key, " ")
		if template == "/access/ticket" {
			continue // unauthenticated login: checked below
		}
		t.Run(key, func(t *testing.T) {
			m, _, ok := pveschema.Default().Lookup(method, examplePath(template))
			if !ok || m.Path != template {
				t.Fatalf("schema lookup of %s gives %v", examplePath(template), m)
			}
			params := url.Values{"pvesim-unknown": {"1"}}
			want := map[string]string{"pvesim-unknown": "property is not defined in schema and the schema does not allow additional properties"}
			var typed []string
			for _, name := range m.ParamNames() {
				p, _ := m.Param(name)
				if strings.Contains(template, "{"+name+"}") || strings.Contains(name, "[") {
					continue
				}
				if p.Type == "integer" || p.Type == "boolean" || p.Type == "number" {
					typed = append(typed, name)
				}
			}
			sort.Strings(typed)
			if len(typed) > 0 {
				name := typed[0]
				p, _ := m.Param(name)
				params.Set(name, "true")
				want[name] = "type check ('" + p.Type + "') failed - got 'true'"
			}
			var r apiResp
			if key == "POST /nodes/{node}/storage/{storage}/upload" {
				// An upload is multipart; its query string carries the rest.
				r = root.upload(examplePath(template), params, uploadForm{fields: [][2]string{{"content", "vztmpl"}}, fileName: "a.tar.gz"})
			} else {
				r = root.do(method, examplePath(template), params)
			}
			r.wantErr(t, 400, "Parameter verification failed.")
			for k, v := range want {
				if r.Errors[k] != v {
					t.Errorf("errors[%s] = %q, want %q (all %q)", k, r.Errors[k], v, r.Errors)
				}
			}
		})
	}
	anon := &apiClient{t: t, sim: sim, http: sim.HTTPClient()}
	r := anon.do(http.MethodPost, "/access/ticket", url.Values{"username": {"root@pam"}, "password": {"x"}, "pvesim-unknown": {"1"}})
	r.wantParamErr(t, map[string]string{"pvesim-unknown": "property is not defined in schema and the schema does not allow additional properties"})
}

func TestPropertyStringErrors(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	base := url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}
	tests := []struct {
		key, value, msg string
	}{
		{"net0", "name=eth0,foo=bar", "invalid format - invalid key in comma-separated list property: foo\n"},
		{"net0", "vmbr0", "invalid format - value without key, but schema does not define a default key\n"},
		{"net0", "name=eth0,ip=", "invalid format - missing key in comma-separated list property\n"},
		{"net0", "name=eth0,ip=10.0.0.1", "invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n"},
		{"rootfs", "size=8G", "invalid format - format error\nrootfs.volume: property is missing and it is not optional\n"},
		{"tags", "bad tag!", "invalid format - invalid characters in tag\n"},
		{"hostname", "under_score", "invalid format - value does not look like a valid DNS name\n"},
	}
	for _, tc := range tests {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			p := url.Values{}
			for k, v := range base {
				p[k] = v
			}
			p.Set(tc.key, tc.value)
			c.do(http.MethodPost, "/nodes/pve/lxc", p).wantParamErr(t, map[string]string{tc.key: tc.msg})
		})
	}
}

package pveschema

import (
	"strings"
	"testing"
)

// PVE's texts, written out here rather than taken from the package so a
// changed constant cannot make these tests agree with themselves.
const (
	wantAdditional = "property is not defined in schema and the schema does not allow additional properties"
	wantMissing    = "property is missing and it is not optional"
)

// TestEveryMethodRejectsUnknownParameter walks the whole schema: no method
// of the subset accepts a parameter it does not define.
func TestEveryMethodRejectsUnknownParameter(t *testing.T) {
	methods := Default().Methods()
	if len(methods) == 0 {
		t.Fatal("no methods in the schema")
	}
	for _, m := range methods {
		_, errs := m.Validate(map[string]any{"not-a-pve-parameter": "1"})
		if got := errs["not-a-pve-parameter"]; got != wantAdditional {
			t.Errorf("%s: unknown parameter error = %q, want %q", m, got, wantAdditional)
		}
		if _, errs := m.Validate(map[string]any{"_dc": "1700000000000"}); errs["_dc"] != "" {
			t.Errorf("%s: _dc must be dropped silently, got %q", m, errs["_dc"])
		}
	}
}

// TestEveryTypedParameterRejectsWrongType sends a value of the wrong type to
// every integer, number and boolean parameter of every method.
func TestEveryTypedParameterRejectsWrongType(t *testing.T) {
	methodsWithTyped, checked := 0, 0
	for _, m := range Default().Methods() {
		typed := false
		for _, name := range m.ParamNames() {
			p, ok := m.Param(name)
			if !ok {
				t.Fatalf("%s: ParamNames lists %s but Param does not resolve it", m, name)
			}
			if p.Type != "integer" && p.Type != "number" && p.Type != "boolean" {
				continue
			}
			typed = true
			checked++
			_, errs := m.Validate(map[string]any{name: "abc"})
			want := "type check ('" + p.Type + "') failed - got 'abc'"
			if errs[name] != want {
				t.Errorf("%s %s=abc: got %q, want %q", m, name, errs[name], want)
			}
			_, errs = m.Validate(map[string]any{name: ""})
			if want := "type check ('" + p.Type + "') failed - got ''"; errs[name] != want {
				t.Errorf("%s %s=(empty): got %q, want %q", m, name, errs[name], want)
			}
			_, errs = m.Validate(map[string]any{name: []string{"1", "2"}})
			if want := "type check ('" + p.Type + "') failed - got ARRAY"; errs[name] != want {
				t.Errorf("%s %s repeated: got %q, want %q", m, name, errs[name], want)
			}
		}
		if typed {
			methodsWithTyped++
		}
	}
	if methodsWithTyped < 30 || checked < 100 {
		t.Errorf("only %d methods / %d parameters with typed values were checked; the schema has more", methodsWithTyped, checked)
	}
}

// TestEveryBooleanAcceptsOnlyZeroOneOrJSON: top-level booleans take "0",
// "1" or a JSON boolean; "true" is a type error (PVE's property strings are
// lenient, its parameters are not).
func TestEveryBooleanAcceptsOnlyZeroOneOrJSON(t *testing.T) {
	booleans := 0
	for _, m := range Default().Methods() {
		for _, name := range m.ParamNames() {
			p, _ := m.Param(name)
			if p.Type != "boolean" {
				continue
			}
			booleans++
			for _, bad := range []string{"true", "yes", "on", "TRUE", "2"} {
				_, errs := m.Validate(map[string]any{name: bad})
				if want := "type check ('boolean') failed - got '" + bad + "'"; errs[name] != want {
					t.Errorf("%s %s=%s: got %q, want %q", m, name, bad, errs[name], want)
				}
			}
			for raw, want := range map[any]string{true: "1", false: "0", "1": "1", "0": "0"} {
				values, errs := m.Validate(map[string]any{name: raw})
				if errs[name] != "" {
					t.Errorf("%s %s=%#v rejected: %q", m, name, raw, errs[name])
				}
				if values[name] != want {
					t.Errorf("%s %s=%#v: value %q, want %q", m, name, raw, values[name], want)
				}
			}
			_, errs := m.Validate(map[string]any{name: float64(2)})
			if want := "type check ('boolean') failed - got '2'"; errs[name] != want {
				t.Errorf("%s %s=JSON 2: got %q, want %q", m, name, errs[name], want)
			}
		}
	}
	if booleans < 50 {
		t.Errorf("only %d boolean parameters found; the subset has about 90", booleans)
	}
}

// TestValidCreateRequestPasses is the positive control for the rules above:
// a typical create request (form values) yields no errors and the values a
// handler needs.
func TestValidCreateRequestPasses(t *testing.T) {
	m, pathParams, ok := Default().Lookup("POST", "/nodes/pve/lxc")
	if !ok {
		t.Fatal("POST /nodes/pve/lxc not found")
	}
	values, errs := m.ValidateWithPath(pathParams, createParams())
	if errs != nil {
		t.Fatalf("valid create rejected: %v", errs)
	}
	want := Values{
		"node": "pve", "vmid": "100", "hostname": "web01.example.com", "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
		"memory": "1024", "swap": "512", "cores": "2", "net0": "name=eth0,bridge=vmbr0,ip=dhcp,firewall=1",
		"rootfs": "local-lvm:8", "features": "nesting=1", "unprivileged": "1", "start": "1", "tags": "web;prod",
		"nameserver": "1.1.1.1 8.8.8.8", "searchdomain": "example.com", "onboot": "0", "password": "secret-pw",
		"ssh-public-keys": "ssh-ed25519 AAAA test", "storage": "local-lvm", "timezone": "Europe/Berlin",
		"startup": "order=2,up=10", "description": "web server",
	}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("value %s = %q, want %q", k, values[k], v)
		}
	}
	if len(values) != len(want) {
		t.Errorf("got %d values, want %d: %v", len(values), len(want), values)
	}
}

func createParams() map[string]any {
	return map[string]any{
		"vmid": "100", "hostname": "web01.example.com", "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
		"memory": "1024", "swap": "512", "cores": "2", "net0": "name=eth0,bridge=vmbr0,ip=dhcp,firewall=1",
		"rootfs": "local-lvm:8", "features": "nesting=1", "unprivileged": "1", "start": "1", "tags": "web;prod",
		"nameserver": "1.1.1.1 8.8.8.8", "searchdomain": "example.com", "onboot": "0", "password": "secret-pw",
		"ssh-public-keys": "ssh-ed25519 AAAA test", "storage": "local-lvm", "timezone": "Europe/Berlin",
		"startup": "order=2,up=10", "description": "web server", "_dc": "1",
	}
}

// TestAllFailingParametersReportedAtOnce: PVE reports every bad parameter,
// not the first one.
func TestAllFailingParametersReportedAtOnce(t *testing.T) {
	m, pathParams, _ := Default().Lookup("POST", "/nodes/pve/lxc")
	params := createParams()
	params["vmid"] = "99"
	params["memory"] = "8"
	params["start"] = "true"
	params["bogus"] = "x"
	delete(params, "ostemplate")
	values, errs := m.ValidateWithPath(pathParams, params)
	want := map[string]string{
		"vmid":       "invalid format - value does not look like a valid VM ID\n",
		"memory":     "value must have a minimum value of 16",
		"start":      "type check ('boolean') failed - got 'true'",
		"bogus":      wantAdditional,
		"ostemplate": wantMissing,
	}
	if len(errs) != len(want) {
		t.Errorf("errors = %v, want exactly %v", errs, want)
	}
	for k, v := range want {
		if errs[k] != v {
			t.Errorf("%s: %q, want %q", k, errs[k], v)
		}
		if values.Has(k) {
			t.Errorf("invalid parameter %s must not be in the values", k)
		}
	}
	if values["hostname"] != "web01.example.com" {
		t.Errorf("valid parameters stay in the values: hostname=%q", values["hostname"])
	}
}

func TestJSONBodyValues(t *testing.T) {
	m, pathParams, _ := Default().Lookup("PUT", "/nodes/pve/lxc/100/config")
	values, errs := m.ValidateWithPath(pathParams, map[string]any{
		"memory": float64(2048), "cpulimit": 1.5, "onboot": true, "protection": false,
		"delete": []any{"mp0", "net1"}, "description": "hi", "tty": nil,
	})
	if errs != nil {
		t.Fatalf("JSON body rejected: %v", errs)
	}
	want := Values{"node": "pve", "vmid": "100", "memory": "2048", "cpulimit": "1.5", "onboot": "1", "protection": "0", "delete": "mp0,net1", "description": "hi"}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("%s = %q, want %q", k, values[k], v)
		}
	}
	if values.Has("tty") {
		t.Error("a JSON null is an absent parameter")
	}
	_, errs = m.Validate(map[string]any{"node": "pve", "vmid": "100", "hostname": true, "cores": 2.5, "features": map[string]any{"nesting": 1}})
	for k, want := range map[string]string{
		"hostname": "type check ('string') failed - got JSON::PP::Boolean",
		"cores":    "type check ('integer') failed - got '2.5'",
		"features": "type check ('string') failed - got HASH",
	} {
		if errs[k] != want {
			t.Errorf("%s: %q, want %q", k, errs[k], want)
		}
	}
}

func TestLegacyListNormalisation(t *testing.T) {
	m, _, _ := Default().Lookup("PUT", "/nodes/pve/lxc/100/config")
	values, errs := m.Validate(map[string]any{"node": "pve", "vmid": "100", "delete": []string{"mp0", "tags"}})
	if errs != nil || values["delete"] != "mp0,tags" {
		t.Errorf("repeated delete= is joined: values=%v errs=%v", values, errs)
	}
	_, errs = m.Validate(map[string]any{"node": "pve", "vmid": "100", "delete": []string{"mp0", "9bad"}})
	if want := "invalid format - invalid configuration ID '9bad'\n"; errs["delete"] != want {
		t.Errorf("delete with a bad key: %q, want %q", errs["delete"], want)
	}
	_, errs = m.Validate(map[string]any{"node": "pve", "vmid": "100", "hostname": []string{"a", "b"}})
	if want := "type check ('string') failed - got ARRAY"; errs["hostname"] != want {
		t.Errorf("repeated non-list parameter: %q, want %q", errs["hostname"], want)
	}
}

func TestPathParametersAreValidated(t *testing.T) {
	api := Default()
	m, pathParams, ok := api.Lookup("GET", "/nodes/pve/lxc/abc/config")
	if !ok {
		t.Fatal("a bad vmid still routes; validation rejects it")
	}
	_, errs := m.ValidateWithPath(pathParams, nil)
	if want := "type check ('integer') failed - got 'abc'"; errs["vmid"] != want {
		t.Errorf("vmid=abc: %q, want %q", errs["vmid"], want)
	}
	m, pathParams, _ = api.Lookup("GET", "/nodes/pve/lxc/42/status/current")
	_, errs = m.ValidateWithPath(pathParams, nil)
	if want := "invalid format - value does not look like a valid VM ID\n"; errs["vmid"] != want {
		t.Errorf("vmid=42: %q, want %q", errs["vmid"], want)
	}
	m, pathParams, _ = api.Lookup("GET", "/nodes/bad_node/status")
	_, errs = m.ValidateWithPath(pathParams, nil)
	if want := "invalid format - value does not look like a valid node name\n"; errs["node"] != want {
		t.Errorf("node=bad_node: %q, want %q", errs["node"], want)
	}
}

func TestDuplicatePathParameter(t *testing.T) {
	m, pathParams, _ := Default().Lookup("PUT", "/nodes/pve/lxc/100/config")
	_, errs := m.ValidateWithPath(pathParams, map[string]any{"vmid": "101", "bogus": "1", "memory": "1"})
	want := map[string]string{"vmid": "duplicate parameter (already defined in URI) with conflicting values!"}
	if len(errs) != 1 || errs["vmid"] != want["vmid"] {
		t.Errorf("conflicting vmid: %v, want only %v", errs, want)
	}
	values, errs := m.ValidateWithPath(pathParams, map[string]any{"vmid": float64(100), "node": "pve"})
	if errs != nil || values["vmid"] != "100" {
		t.Errorf("the same value twice is fine: values=%v errs=%v", values, errs)
	}
}

func TestRequiredAndRequires(t *testing.T) {
	api := Default()
	m, pathParams, _ := api.Lookup("POST", "/nodes/pve/storage/local/download-url")
	base := map[string]any{"url": "https://example.com/a.tar.zst", "content": "vztmpl", "filename": "a.tar.zst"}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	if _, errs := m.ValidateWithPath(pathParams, base); errs != nil {
		t.Fatalf("valid download-url rejected: %v", errs)
	}
	_, errs := m.ValidateWithPath(pathParams, with(map[string]any{"checksum": "abc"}))
	if want := "missing property required by 'checksum'"; errs["checksum-algorithm"] != want || len(errs) != 1 {
		t.Errorf("checksum without algorithm: %v, want checksum-algorithm: %q", errs, want)
	}
	_, errs = m.ValidateWithPath(pathParams, with(map[string]any{"checksum-algorithm": "sha256"}))
	if want := "missing property required by 'checksum-algorithm'"; errs["checksum"] != want {
		t.Errorf("algorithm without checksum: %v, want checksum: %q", errs, want)
	}
	_, errs = m.ValidateWithPath(pathParams, with(map[string]any{"checksum": "abc", "checksum-algorithm": "sha1024"}))
	if want := "value 'sha1024' does not have a value in the enumeration 'md5, sha1, sha224, sha256, sha384, sha512'"; errs["checksum-algorithm"] != want {
		t.Errorf("unknown algorithm: %q, want %q", errs["checksum-algorithm"], want)
	}
	_, errs = m.ValidateWithPath(pathParams, map[string]any{"content": "vztmpl"})
	for _, k := range []string{"url", "filename"} {
		if errs[k] != wantMissing {
			t.Errorf("missing %s: %q", k, errs[k])
		}
	}
	_, errs = m.ValidateWithPath(pathParams, with(map[string]any{"url": "ftp://x"}))
	if want := "value does not match the regex pattern"; errs["url"] != want {
		t.Errorf("ftp url: %q, want %q", errs["url"], want)
	}
}

func TestRangesLengthsAndEnums(t *testing.T) {
	m, _, _ := Default().Lookup("PUT", "/nodes/pve/lxc/100/config")
	cases := []struct{ key, value, want string }{
		{"memory", "15", "value must have a minimum value of 16"},
		{"memory", "16", ""},
		{"tty", "7", "value must have a maximum value of 6"},
		{"tty", "-1", "value must have a minimum value of 0"},
		{"cores", "8193", "value must have a maximum value of 8192"},
		{"cpulimit", "0.5", ""},
		{"cpulimit", "1e1", ""},
		{"cpulimit", "9e3", "value must have a maximum value of 8192"},
		{"cpulimit", "abc", "type check ('number') failed - got 'abc'"},
		{"arch", "sparc", "value 'sparc' does not have a value in the enumeration 'amd64, i386, arm64, armhf, riscv32, riscv64'"},
		{"arch", "arm64", ""},
		{"cmode", "tty", ""},
		{"digest", strings.Repeat("a", 41), "value may only be 40 characters long"},
		{"description", strings.Repeat("d", 8193), "value may only be 8192 characters long"},
		{"description", strings.Repeat("é", 8192), ""},
		{"hostname", strings.Repeat("a", 256), "value may only be 255 characters long"},
		{"memory", "+0100", ""},
	}
	for _, c := range cases {
		_, errs := m.Validate(map[string]any{"node": "pve", "vmid": "100", c.key: c.value})
		if errs[c.key] != c.want {
			t.Errorf("%s=%.20q: %q, want %q", c.key, c.value, errs[c.key], c.want)
		}
	}
	values, _ := m.Validate(map[string]any{"node": "pve", "vmid": "100", "memory": "+0100"})
	if values["memory"] != "100" {
		t.Errorf("integers reach handlers in plain decimal: %q", values["memory"])
	}
	p, _, _ := Default().Lookup("POST", "/nodes/pve/lxc")
	_, errs := p.Validate(map[string]any{"node": "pve", "vmid": "100", "ostemplate": "local:vztmpl/a.tar.gz", "password": "abcd"})
	if want := "value must be at least 5 characters long"; errs["password"] != want {
		t.Errorf("short password: %q, want %q", errs["password"], want)
	}
}

package pveschema

import (
	"encoding/json"
	"net/url"
	"sync"
	"testing"
)

// TestPerlStringification: JSON numbers reach PVE's checks as Perl prints
// them, which decides messages such as "got '2.5'".
func TestPerlStringification(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{float64(100), "100"},
		{1.5, "1.5"},
		{0.1, "0.1"},
		{1e-7, "1e-07"},
		{1e15, "1e+15"},
		{float64(123456789012345678), "1.23456789012346e+17"},
		{json.Number("1024"), "1024"},
		{json.Number("1.0"), "1"},
		{json.Number("1E2"), "100"},
		{true, "1"},
		{false, "0"},
		{"text", "text"},
		{42, "42"},
	}
	for _, c := range cases {
		if got := perlString(c.in); got != c.want {
			t.Errorf("perlString(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestConcurrentValidation: the simulator validates requests from many
// goroutines against the one Default API (run with -race).
func TestConcurrentValidation(t *testing.T) {
	api := Default()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			for j := 0; j < 50; j++ {
				m, pp, ok := api.Lookup("POST", "/nodes/pve/lxc")
				if !ok {
					t.Error("lookup failed")
					return
				}
				if _, errs := m.ValidateWithPath(pp, createParams()); errs != nil {
					t.Errorf("valid create rejected: %v", errs)
					return
				}
				p, _ := api.ConfigKey("net1")
				if _, err := p.ParseValue("name=eth1,ip=dhcp"); err != nil {
					t.Error(err)
					return
				}
				if msg := p.Check("name=eth1,timezone=x"); msg == "" {
					t.Error("bad net1 accepted")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestFormParams(t *testing.T) {
	form := url.Values{"vmid": {"100"}, "delete": {"mp0", "net1"}, "empty": {}}
	params := FormParams(form)
	if params["vmid"] != "100" {
		t.Errorf("single value: %#v", params["vmid"])
	}
	if d, ok := params["delete"].([]string); !ok || len(d) != 2 || d[1] != "net1" {
		t.Errorf("repeated key: %#v", params["delete"])
	}
	if _, ok := params["empty"]; ok {
		t.Error("a key without values is absent")
	}
	m, pp, _ := Default().Lookup("PUT", "/nodes/pve/lxc/100/config")
	values, errs := m.ValidateWithPath(pp, params)
	if errs["empty"] != "" || values["delete"] != "mp0,net1" || errs["vmid"] != "" {
		t.Errorf("values=%v errs=%v", values, errs)
	}
}

package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// Values that reach PVE's property strings (bridge, storage, mount path)
// are checked against PVE's formats at plan time, wherever they come from:
// the container's own attributes, pve_lxc_template's overrides, or the
// defaults of a spec written by hand. Nothing reaches the API.
func TestAccPropertyStringValues_refusedAtPlan(t *testing.T) {
	sim := newSim(t)
	container := func(body string) string { return plainContainerConfig(sim, body) }
	template := func(body string) string { return webTemplateConfig(sim, body) }
	handWritten := func(defaults string) string {
		return container(fmt.Sprintf(`template = jsonencode({ name = "web", os_template = "debian-12-standard", defaults = { %s } })`, defaults))
	}
	cases := []struct {
		config string
		want   string
	}{
		{container(`storage = "local-lvm,ro=1"`), `(?s)Invalid Storage ID.*storage: storage ID "local-lvm,ro=1" is not a valid\s+Proxmox VE storage ID`},
		{container(`network = [{ bridge = "vmbr0,tag=666,rate=1" }]`), `(?s)Invalid Bridge Name.*network\[0\].bridge: bridge name "vmbr0,tag=666,rate=1"\s+is not a valid`},
		{container(`mount_points = { mp0 = { storage = "local-lvm,ro=1", size = 1, path = "/srv" } }`),
			`(?s)Invalid Storage ID.*mount_points\["mp0"\].storage: storage ID "local-lvm,ro=1"`},
		{container(`mount_points = { mp0 = { storage = "local-lvm", size = 1, path = "/srv,ro=1" } }`),
			`(?s)Invalid Mount Path.*mount_points\["mp0"\].path: mount path "/srv,ro=1" contains ","`},
		{container(`mount_points = { mp0 = { storage = "local-lvm", size = 1, path = "/srv/../etc" } }`),
			`(?s)Invalid Mount Path.*contains a "." or ".."\s+element`},
		{container(`mount_points = { mp0 = { storage = "local-lvm", size = 1, path = "srv" } }`),
			`(?s)Invalid Mount Path.*must be an absolute path`},
		{handWritten(`bridge = "vmbr0,tag=666"`), `(?s)Invalid Template Spec.*defaults.bridge: bridge name "vmbr0,tag=666" is not\s+a valid`},
		{handWritten(`storage = "local-lvm,ro=1"`), `(?s)Invalid Template Spec.*defaults.storage: storage ID "local-lvm,ro=1"`},
		{handWritten(`disk_size = 9223372036854775807`), `(?s)Invalid Template Spec.*defaults.disk_size is 9223372036854775807, outside\s+the range`},
		{template(`defaults = { storage = "local-lvm,ro=1" }`), `(?s)Invalid Storage ID.*defaults.storage: storage ID "local-lvm,ro=1"`},
		{template(`defaults = { bridge = "vmbr0,tag=666" }`), `(?s)Invalid Bridge Name.*defaults.bridge: bridge name "vmbr0,tag=666"`},
		{template(`storage = "local,ro=1"`), `(?s)Invalid Storage ID.*storage: storage ID "local,ro=1"`},
	}
	steps := make([]resource.TestStep, 0, len(cases))
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: c.config, PlanOnly: true, ExpectError: regexp.MustCompile(c.want)})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
	for _, r := range sim.Requests() {
		if r.Method != "GET" {
			t.Errorf("a plan that failed validation sent %s %s", r.Method, r.Path)
		}
	}
}

package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// link_down reaches PVE's net0 property string, is read back, and changes
// in place.
func TestAccContainer_networkLinkDown(t *testing.T) {
	sim := newSim(t)
	cfg := func(linkDown string) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
  hostname    = "link"
  network     = [{ ip = "10.0.0.5/24", hwaddr = "BC:24:11:00:00:05"%s }]
}
`, linkDown)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg(", link_down = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("network").AtSliceIndex(0).AtMapKey("link_down"), knownvalue.Bool(true)),
				},
				Check: checkSimConfig(t, sim, "net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:05,ip=10.0.0.5/24,link_down=1,type=veth"),
			},
			{
				Config: cfg(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("network").AtSliceIndex(0).AtMapKey("link_down"), knownvalue.Bool(false)),
				},
				Check: checkSimConfig(t, sim, "net0", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:05,ip=10.0.0.5/24,type=veth"),
			},
			{Config: cfg(""), PlanOnly: true},
		},
	})
}

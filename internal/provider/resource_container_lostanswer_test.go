package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// PVE carries a create out but its answer is lost (the connection closes
// without one). The container is tracked, tainted, not dropped; the next
// apply replaces it, and the cluster ends with exactly the containers in
// state: no orphan under the same host name, no duplicate.
func TestAccContainer_lostCreateAnswer(t *testing.T) {
	sim := newSim(t, pvesimtest.WithTaskDuration(20*time.Millisecond),
		pvesimtest.WithFault(pvesim.Fault{Kind: pvesim.FaultLostAnswer, Method: "POST", Path: "/nodes/*/lxc", Count: 1}))
	config := providerBlock(sim) + `
resource "pve_lxc_container" "test" {
  node        = "pve"
  hostname    = "answerless"
  os_template = "debian-12-standard"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: wrapTolerant("Container Creation Uncertain", "got no clear answer", "tracked and marked tainted"),
			},
			{
				// Tracked: the plan replaces it rather than creating a second.
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeTestCheckFunc(
					checkStateMatchesSim(sim, 1),
					checkHostnames(sim, "answerless"),
					func(*terraform.State) error {
						if n := countRequests(sim, "POST", "/nodes/pve/lxc"); n != 2 {
							return fmt.Errorf("%d create requests, want 2 (the lost one and the replacement)", n)
						}
						return nil
					},
				),
			},
			{Config: config, PlanOnly: true},
		},
	})
}

// checkHostnames asserts the simulator's containers' host names, in VMID
// order.
func checkHostnames(sim *pvesimtest.Sim, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var got []string
		for _, c := range sim.Containers() {
			got = append(got, c.Config["hostname"])
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("the simulator's containers are named %v, want %v", got, want)
		}
		return nil
	}
}

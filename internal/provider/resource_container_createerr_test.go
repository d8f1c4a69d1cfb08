package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// A create that failed with nothing created is worded by what failed: a
// refusal by PVE says so; a PVE that could not be reached is not called a
// refusal.
func TestAccContainer_createFailureWording(t *testing.T) {
	refused := newSim(t, pvesimtest.WithFault(pvesim.Fault{Kind: pvesim.FaultStatus, Method: "POST", Path: "/nodes/*/lxc",
		Status: 500, Message: "unable to create CT 100 - no space left", Count: 1}))
	unreachable := newSim(t, pvesimtest.WithFault(pvesim.Fault{Kind: pvesim.FaultDrop, Method: "GET", Path: "/cluster/nextid"}))
	config := `
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      providerBlock(refused) + config,
				ExpectError: wrapTolerant("Unable to Create Container", "Proxmox VE refused to create the container on node pve", "no space left"),
			},
			{
				Config:      providerBlock(unreachable) + config,
				ExpectError: wrapTolerant("Unable to Create Container", "Proxmox VE could not be reached, so the container on node pve was not created"),
			},
		},
	})
	for _, sim := range []*pvesimtest.Sim{refused, unreachable} {
		if n := len(sim.Containers()); n != 0 {
			t.Errorf("%d containers exist after a failed create", n)
		}
	}
	if n := countRequests(unreachable, "POST", "/nodes/pve/lxc"); n != 0 {
		t.Errorf("the create was sent %d times although no VMID could be allocated", n)
	}
}

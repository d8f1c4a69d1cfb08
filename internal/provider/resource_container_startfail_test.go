package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// A new container that fails to start is kept, not tainted: the create
// records it stopped and unprovisioned (with a warning), and the next
// apply starts and provisions the same container instead of replacing it.
func TestAccContainer_startFailureAfterCreate(t *testing.T) {
	sim := newSim(t, pvesimtest.WithFault(pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzstart",
		Message: "startup for container '150' failed", Count: 1}))
	host := newHostExec(t)
	sim.Memory().SetExecHook(host.hook)
	root, dir := t.TempDir(), t.TempDir()
	app := rollbackTemplate(t, dir, root)
	config := providerBlockSSH(sim) + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  vmid     = 150
  template = data.pve_template_discovery.all.templates["app"]
}
`, dir)
	runs := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			got, err := os.ReadFile(filepath.Join(root, "runs"))
			if err != nil && !os.IsNotExist(err) {
				return err
			}
			if string(got) != want {
				return fmt.Errorf("the template's script ran %q, want %q", got, want)
			}
			return nil
		}
	}
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             config,
				ExpectNonEmptyPlan: true, // the next plan starts and provisions it
				ConfigStateChecks:  []statecheck.StateCheck{sameID.AddStateValue(ctAddr, tfjsonpath.New("id"))},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(ctAddr, "status", "stopped"),
					resource.TestCheckNoResourceAttr(ctAddr, "provisioned.%"),
					func(*terraform.State) error {
						if c, _ := sim.Container(150); c.Status != "stopped" {
							return fmt.Errorf("the container is %s, want stopped", c.Status)
						}
						return nil
					},
					runs(""),
				),
			},
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(ctAddr, tfjsonpath.New("id"))},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr(ctAddr, "status", "running"),
					resource.TestCheckResourceAttr(ctAddr, "started", "true"),
					func(s *terraform.State) error {
						spec := loadSpec(t, app)
						return checkStateProvisioned(&spec)(s)
					},
					runs("mark\n"),
				),
			},
		},
	})
}

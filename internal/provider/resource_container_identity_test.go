package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// A created container carries its identity, and an import block with that
// identity imports it back with no change.
func TestAccContainer_identity(t *testing.T) {
	useQueryTerraform(t)
	sim := newSim(t)
	cfg := providerBlock(sim) + `
resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 150
  os_template = "debian-12-standard"
  hostname    = "web1"
  network     = [{ bridge = "vmbr0", ip = "10.0.0.5/24", gw = "10.0.0.1" }]
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(ctAddr, ctIdentity("pve", 150)),
					statecheck.ExpectIdentityValueMatchesState(ctAddr, tfjsonpath.New("node")),
					statecheck.ExpectIdentityValueMatchesState(ctAddr, tfjsonpath.New("vmid")),
				},
			},
			{
				ResourceName:    ctAddr,
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
				ImportPlanChecks: resource.ImportPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionNoop)},
				},
			},
		},
	})
}

// A container made outside Terraform is adopted with an import block that
// names it by identity; a wrong identity is refused with an explanation.
func TestAccContainer_importByIdentity(t *testing.T) {
	useQueryTerraform(t)
	sim := newSim(t)
	createOutOfBand(t, simClient(t, sim), "pve", 321, true, pveapi.NewParams().Set("hostname", "legacy").
		SetInt("memory", 1024).Set("rootfs", "local-lvm:6").Set("tags", "b,A").
		Set("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.9/24,gw=10.0.0.1"))
	cfg := func(node string, vmid int) string {
		return providerBlock(sim) + fmt.Sprintf(`
import {
  to       = pve_lxc_container.test
  identity = { node = %q, vmid = %d }
}

resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 321
  hostname    = "legacy"
  os_template = "debian-12-standard"
  memory      = 1024
  disk_size   = 6
  tags        = ["a", "B"]
  network     = [{ bridge = "vmbr0", ip = "10.0.0.9/24", gw = "10.0.0.1" }]
}
`, node, vmid)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		Steps: []resource.TestStep{
			{
				Config:      cfg("pve", 99),
				ExpectError: regexp.MustCompile(`(?s)Unexpected Import Identity.*vmid\s+at least 100`),
			},
			{
				Config:      cfg("pve", 322),
				ExpectError: regexp.MustCompile(`Cannot import non-existent remote object`),
			},
			{
				Config: cfg("pve", 321),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionNoop)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectIdentity(ctAddr, ctIdentity("pve", 321)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("id"), knownvalue.StringExact("pve/321")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("os_template"), knownvalue.StringExact("debian-12-standard")),
				},
			},
		},
	})
}

// A create whose outcome is unknown (here: the create task outlives the
// create timeout) keeps the container in state, tainted — with its
// identity, so that the next plan still knows which container it is.
func TestAccContainer_identityOfUncertainCreate(t *testing.T) {
	useQueryTerraform(t)
	sim := newSim(t, pvesimtest.WithTaskDurationFor("vzcreate", 4*time.Second))
	cfg := func(createTimeout string) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 170
  os_template = "debian-12-standard"
  timeouts {
    create = %q
  }
}
`, createTimeout)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_12_0)},
		Steps: []resource.TestStep{
			{
				Config:      cfg("2s"),
				ExpectError: regexp.MustCompile(`Container Creation Did Not Finish`),
			},
			{
				Config:             cfg("2s"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPreRefresh: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionReplace),
						expectPriorIdentity(ctAddr, map[string]any{"node": "pve", "vmid": float64(170)}),
					},
				},
			},
			{
				// Once PVE has finished, the next apply replaces it.
				PreConfig: func() { waitUnlocked(t, sim, 170) },
				Config:    cfg("1m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionReplace)},
				},
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectIdentity(ctAddr, ctIdentity("pve", 170))},
			},
		},
	})
}

// waitUnlocked waits, bounded, until a container's config lock is gone.
func waitUnlocked(t *testing.T, sim *pvesimtest.Sim, vmid int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, ok := sim.Container(vmid); !ok || c.Lock == "" {
			return
		}
	}
	t.Fatalf("container %d is still locked after 30 s", vmid)
}

// expectPriorIdentity checks the identity a resource has in the state a
// plan starts from: for a tainted resource no other check reaches it.
func expectPriorIdentity(addr string, want map[string]any) plancheck.PlanCheck {
	return priorIdentityCheck{addr: addr, want: want}
}

type priorIdentityCheck struct {
	addr string
	want map[string]any
}

func (c priorIdentityCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	if req.Plan.PriorState == nil || req.Plan.PriorState.Values == nil {
		resp.Error = fmt.Errorf("the plan has no prior state")
		return
	}
	for _, r := range req.Plan.PriorState.Values.RootModule.Resources {
		if r.Address != c.addr {
			continue
		}
		if fmt.Sprint(r.IdentityValues) != fmt.Sprint(c.want) {
			resp.Error = fmt.Errorf("%s has identity %v in the prior state, want %v", c.addr, r.IdentityValues, c.want)
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the prior state", c.addr)
}

package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// On a CLI without `terraform query`, containers are adopted with import
// blocks and `terraform plan -generate-config-out`: the configuration
// generated for every kind of container in the dashboard fleet plans no
// change besides the import.
func TestAccContainer_importGeneratesConfig(t *testing.T) {
	sim := newSim(t, pvesimtest.WithNodes("pve", "pve2"))
	adoptableFleet(t, sim)
	for _, id := range []string{"pve/101", "pve/102", "pve2/201", "pve2/202"} {
		t.Run(id, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				// Terraform before 1.7 crashes generating configuration for a
				// schema with read-only nested attributes (hashicorp/terraform#34463).
				TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_7_0)},
				Steps: []resource.TestStep{{
					Config: providerBlock(sim) + `
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}
`,
					ResourceName:    ctAddr,
					ImportState:     true,
					ImportStateKind: resource.ImportBlockWithID,
					ImportStateId:   id,
					GenerateConfig:  true,
				}},
			})
		})
	}
}

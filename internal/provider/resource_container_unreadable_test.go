package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// A container whose config holds a value the provider cannot read (here
// an overflowed size, as a simulator bug once wrote it) does not block the
// refresh: the plan warns and keeps state, an update fails naming the
// value, and terraform destroy removes the container.
func TestAccContainer_unreadableConfigDoesNotBlockDestroy(t *testing.T) {
	sim := newSim(t)
	cfg := func(memory int) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 120
  os_template = "debian-12-standard"
  memory      = %d
}
`, memory)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := len(sim.Containers()); n != 0 {
				return fmt.Errorf("%d containers left after destroy", n)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: cfg(256)},
			{
				PreConfig: func() {
					err := sim.EditConfigOutOfBand(120, func(text string) string {
						return regexp.MustCompile(`size=\d+G`).ReplaceAllString(text, "size=-8388608T")
					})
					if err != nil {
						t.Fatal(err)
					}
					if c, _ := sim.Container(120); !strings.Contains(c.Config["rootfs"], "size=-8388608T") {
						t.Fatalf("rootfs = %q, the edit did not take", c.Config["rootfs"])
					}
				},
				// The refresh warns and keeps state: nothing to change.
				Config:   cfg(256),
				PlanOnly: true,
			},
			{
				Config:      cfg(512),
				ExpectError: wrapTolerant("Unexpected Container Config", "Container 120 on node pve", "reading rootfs", "-8388608T"),
			},
		},
	})
}

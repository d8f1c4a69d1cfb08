package provider

import (
	"fmt"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Creating many containers in one apply looks up each node's storages and
// OS images once, not once per container.
func TestAccContainer_sharedLookupsOncePerNode(t *testing.T) {
	const perNode = 4
	sim := newSim(t, pvesimtest.WithNodes("pve", "pve2"), pvesimtest.WithTaskDuration(5*time.Millisecond),
		pvesimtest.WithTemplates("debian-12-standard_12.7-1_amd64.tar.zst"))
	config := providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "c" {
  count       = %d
  node        = count.index %% 2 == 0 ? "pve" : "pve2"
  hostname    = "ct${count.index}"
  os_template = "debian-12-standard"
  memory      = 128
  disk_size   = 0.5
}
`, 2*perNode)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeTestCheckFunc(
				checkStateMatchesSim(sim, 2*perNode),
				func(*terraform.State) error {
					for _, n := range []string{"pve", "pve2"} {
						counts := map[string]int{}
						for _, r := range sim.Requests() {
							if r.Method == http.MethodGet {
								counts[r.Path]++
							}
						}
						for _, p := range []string{"/nodes/" + n + "/storage", "/nodes/" + n + "/storage/local/content"} {
							if got := counts["/api2/json"+p]; got != 1 {
								return fmt.Errorf("creating %d containers on %s requested GET %s %d times, want once", perNode, n, p, got)
							}
						}
					}
					return nil
				},
			),
		}},
	})
}

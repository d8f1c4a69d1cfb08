package provider

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// countConfig declares n containers with allocated VMIDs.
func countConfig(sim *pvesimtest.Sim, n int) string {
	return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "c" {
  count       = %d
  node        = "pve"
  hostname    = "ct${count.index}"
  os_template = "debian-12-standard"
  memory      = 128
  disk_size   = 0.5
}
`, n)
}

// checkStateMatchesSim asserts that the simulator holds exactly the
// containers in state: none missing (lost), none extra (orphaned or
// duplicated).
func checkStateMatchesSim(sim *pvesimtest.Sim, want int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		var inState []string
		for _, rs := range s.RootModule().Resources {
			if rs.Type == "pve_lxc_container" {
				inState = append(inState, rs.Primary.Attributes["vmid"])
			}
		}
		var inSim []string
		for _, c := range sim.Containers() {
			inSim = append(inSim, fmt.Sprint(c.VMID))
		}
		sort.Strings(inState)
		sort.Strings(inSim)
		if len(inState) != want || fmt.Sprint(inState) != fmt.Sprint(inSim) {
			return fmt.Errorf("state holds %d containers %v, the simulator %d %v; want %d in both", len(inState), inState, len(inSim), inSim, want)
		}
		return nil
	}
}

// Twenty containers created at once with allocated VMIDs never collide.
func TestAccContainer_parallelCreates(t *testing.T) {
	t.Setenv("TF_CLI_ARGS_apply", "-parallelism=20")
	sim := newSim(t, pvesimtest.WithTaskDuration(50*time.Millisecond), pvesimtest.WithTemplates("debian-12-standard_12.7-1_amd64.tar.zst"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: countConfig(sim, 20),
			Check:  checkStateMatchesSim(sim, 20),
		}},
	})
}

// With flaky GETs, lock timeouts on mutations and a dropped connection, the
// same apply converges, and no container is duplicated or orphaned.
func TestAccContainer_convergesUnderFaults(t *testing.T) {
	t.Setenv("TF_CLI_ARGS_apply", "-parallelism=10")
	sim := newSim(t, pvesimtest.WithTaskDuration(20*time.Millisecond), pvesimtest.WithTemplates("debian-12-standard_12.7-1_amd64.tar.zst"))
	faults := sim.Faults()
	faults.MustAdd(pvesim.Fault{Kind: pvesim.FaultStatus, Method: "GET", Path: "/**", Status: 502, Message: "Bad Gateway", Probability: 0.1})
	faults.MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Method: "POST", Path: "/nodes/*/lxc", Count: 3})
	faults.MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Method: "PUT", Path: "/nodes/*/lxc/*/config", Count: 2})
	faults.MustAdd(pvesim.Fault{Kind: pvesim.FaultDrop, Method: "GET", Path: "/nodes/*/lxc/*/config", Count: 1})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: countConfig(sim, 8),
				Check:  checkStateMatchesSim(sim, 8),
			},
			{
				// A refresh and re-plan under the same faults.
				Config: countConfig(sim, 8),
				Check: resource.ComposeTestCheckFunc(
					checkStateMatchesSim(sim, 8),
					checkFaultsFired(sim, "status", "lock-timeout", "drop"),
				),
			},
		},
	})
}

// checkFaultsFired asserts that each kind of fault shaped at least one
// answer, so a converging apply proves something.
func checkFaultsFired(sim *pvesimtest.Sim, kinds ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		fired := map[string]int{}
		for _, r := range sim.Requests() {
			if r.Fault == "" {
				continue
			}
			for _, spec := range strings.Split(r.Fault, pvesim.FaultSeparator) {
				f, err := pvesim.ParseFault(spec)
				if err != nil {
					return fmt.Errorf("request log names an unparsable fault %q: %w", spec, err)
				}
				fired[string(f.Kind)]++
			}
		}
		for _, k := range kinds {
			if fired[k] == 0 {
				return fmt.Errorf("no %s fault fired (fired: %v)", k, fired)
			}
		}
		return nil
	}
}

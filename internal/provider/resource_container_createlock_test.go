package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// createDiesWithPVE starts a create of container 150 on a simulator that
// crashes and restarts while the create task runs: the task ends with
// "unexpected status" and the config stays behind, locked by the create.
func createDiesWithPVE(t *testing.T) (*crashableSim, *pvesimtest.Sim) {
	t.Helper()
	slowCreate := pvesimtest.WithFault(pvesim.Fault{Kind: pvesim.FaultTaskSlow, TaskType: "vzcreate", Delay: time.Hour})
	cs := newCrashableSim(t, []pvesimtest.Option{slowCreate}, pvesimtest.WithTaskDuration(5*time.Millisecond))
	return cs, &pvesimtest.Sim{Server: cs.current()}
}

func lockedConfig(name string) string {
	return fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 150
  hostname    = %q
  os_template = "debian-12-standard"
}
`, name)
}

// checkLock asserts container vmid's config lock in the simulator.
func checkLock(cs *crashableSim, vmid int, want string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		c, ok := cs.current().Container(vmid)
		if !ok {
			return fmt.Errorf("container %d is not in the simulator", vmid)
		}
		if c.Lock != want {
			return fmt.Errorf("container %d has lock %q, want %q", vmid, c.Lock, want)
		}
		return nil
	}
}

// A create task that died with PVE leaves its config behind, locked: the
// container is tracked (tainted), not dropped. The next plan's refresh
// removes the stale lock with pct unlock over SSH, and the apply replaces
// the container: one container in the end, no orphan, no duplicate.
func TestAccContainer_createDiedWithPVEUnlockedOverSSH(t *testing.T) {
	cs, sim := createDiesWithPVE(t)
	config := providerBlockSSH(sim) + lockedConfig("phoenix")
	var crashed <-chan struct{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { crashed = cs.crashWhen("extracting archive") },
				Config:      config,
				ExpectError: wrapTolerant("Unable to Create Container", "unexpected status", "Proxmox VE left its config behind", "tracked and marked tainted"),
			},
			{
				PreConfig: func() { <-crashed },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.ComposeTestCheckFunc(
					checkLock(cs, 150, ""),
					cs.checkStateMatches(1),
					resource.TestCheckResourceAttr(ctAddr, "hostname", "phoenix"),
				),
			},
			{Config: config, PlanOnly: true},
		},
	})
}

// Without an ssh block, the plan says which command lifts the lock and
// where; once it ran on the node, the next apply converges.
func TestAccContainer_createDiedWithPVENoSSH(t *testing.T) {
	cs, sim := createDiesWithPVE(t)
	config := providerBlock(sim) + lockedConfig("phoenix")
	var crashed <-chan struct{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { crashed = cs.crashWhen("extracting archive") },
				Config:      config,
				ExpectError: regexp.MustCompile(`Unable to Create Container`),
			},
			{
				PreConfig:          func() { <-crashed },
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true, // tainted; then the refresh fails
				ExpectError: wrapTolerant("Container Locked by a Failed Create", "Container 150 on node pve",
					"Run `pct unlock 150` on node pve, then run Terraform again"),
			},
			{
				// What pct unlock does on the node.
				PreConfig: func() {
					if err := checkLock(cs, 150, "create")(nil); err != nil {
						t.Fatal(err)
					}
					err := cs.current().EditConfigOutOfBand(150, func(text string) string {
						return strings.Replace(text, "lock: create\n", "", 1)
					})
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				Check:  cs.checkStateMatches(1),
			},
		},
	})
}

// addStaleCreateLock puts the "create" lock on a container with no task
// running, as a create that died with PVE leaves it.
func addStaleCreateLock(t *testing.T, sim *pvesimtest.Sim, vmid int) {
	t.Helper()
	err := sim.EditConfigOutOfBand(vmid, func(text string) string { return text + "lock: create\n" })
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := sim.Container(vmid); c.Lock != "create" {
		t.Fatalf("container %d has lock %q after the edit", vmid, c.Lock)
	}
}

// A stale create lock met by an update or a destroy (here without a
// refresh first, so that the lock is found by the operation itself) is
// removed over SSH, and the operation goes through; without SSH, the
// destroy says which command to run.
func TestAccContainer_staleCreateLockOnUpdateAndDestroy(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI; set TF_ACC=1 (make test does)")
	}
	sim := newSim(t)
	cfg := func(provider string, memory int) string {
		return `
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}
` + provider + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 160
  os_template = "debian-12-standard"
  memory      = %d
  started     = false # as a create that died leaves it
}
`, memory)
	}
	dir := writeConfig(t, cfg(providerBlockSSH(sim), 256))
	cli := newCLISession(t, terraformBinary(t), dir)
	cli.run("apply", "-auto-approve")

	addStaleCreateLock(t, sim, 160)
	writeFile(t, filepath.Join(dir, "main.tf"), cfg(providerBlockSSH(sim), 384))
	out := cli.run("apply", "-auto-approve", "-refresh=false")
	if !wrapTolerant("Stale Create Lock Removed", "the provider ran `pct unlock 160` on node pve").MatchString(out) {
		t.Errorf("the update does not report the removed lock:\n%s", out)
	}
	if c, _ := sim.Container(160); c.Lock != "" || c.Config["memory"] != "384" {
		t.Errorf("after the update: lock %q, memory %q; want no lock and 384", c.Lock, c.Config["memory"])
	}

	addStaleCreateLock(t, sim, 160)
	writeFile(t, filepath.Join(dir, "main.tf"), cfg(providerBlock(sim), 384))
	code, out := cli.exitCode("destroy", "-auto-approve", "-refresh=false")
	if code == 0 || !wrapTolerant("Container Locked by a Failed Create", "Run `pct unlock 160` on node pve").MatchString(out) {
		t.Errorf("destroy without SSH: exit %d, want a failure naming the command:\n%s", code, out)
	}
	if _, ok := sim.Container(160); !ok {
		t.Fatal("the container went away although it was locked")
	}

	writeFile(t, filepath.Join(dir, "main.tf"), cfg(providerBlockSSH(sim), 384))
	out = cli.run("destroy", "-auto-approve", "-refresh=false")
	if !strings.Contains(out, "Stale Create Lock Removed") {
		t.Errorf("the destroy does not report the removed lock:\n%s", out)
	}
	if n := len(sim.Containers()); n != 0 {
		t.Errorf("%d containers left after destroy", n)
	}
}

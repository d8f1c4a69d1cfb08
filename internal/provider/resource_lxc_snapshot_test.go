package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

const (
	snapAddr  = "pve_lxc_snapshot.test"
	childAddr = "pve_lxc_snapshot.child"
)

// withDirRootdir adds a dir storage that holds container volumes (raw
// files, which Proxmox VE cannot snapshot).
var withDirRootdir = pvesimtest.WithStorages(append(pvesim.DefaultStorages(),
	pvesim.StorageConfig{ID: "local-dir", Type: "dir", Content: []string{"images", "rootdir"}, Path: "/mnt/local-dir", Total: 50 << 30})...)

// handMadeVMID is the container handMadeContainer makes (the tests' configs
// write it as 150).
const handMadeVMID = 150

// handMadeContainer creates and starts container handMadeVMID through the
// API, outside Terraform, with its root filesystem on storage.
func handMadeContainer(t *testing.T, c *pveapi.Client, storage string) {
	const vmid = handMadeVMID
	t.Helper()
	ctx := context.Background()
	img, err := c.EnsureOSImage(ctx, "pve", "debian-12-standard", "")
	if err != nil {
		t.Fatal(err)
	}
	params := pveapi.NewParams().Set("ostemplate", img.VolID).Set("hostname", "snapped").Set("rootfs", storage+":4")
	if _, err := c.CreateContainer(ctx, "pve", vmid, params); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartContainer(ctx, "pve", vmid); err != nil {
		t.Fatal(err)
	}
}

// checkSnapshots compares container handMadeVMID's snapshots in the simulator, by
// name, with want (name → description as PVE stores it).
func checkSnapshots(c *pveapi.Client, want map[string]string) resource.TestCheckFunc {
	const vmid = handMadeVMID
	return func(*terraform.State) error {
		list, err := c.ListSnapshots(context.Background(), "pve", vmid)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, s := range list.Snapshots {
			got[s.Name] = s.Description
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("container %d has snapshots %q, want %q", vmid, got, want)
		}
		return nil
	}
}

// Create, import, description in place, replace on a new name, parents,
// an out-of-band delete, and every snapshot gone after destroy while the
// container stays.
func TestAccLXCSnapshot_lifecycle(t *testing.T) {
	sim := newSim(t)
	c := simClient(t, sim)
	handMadeContainer(t, c, "local-lvm")
	cfg := func(name, description string, withChild bool) string {
		out := providerBlock(sim) + fmt.Sprintf(`
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}

resource "pve_lxc_snapshot" "test" {
  node        = "pve"
  vmid        = 150
  name        = %q
  description = %q
}
`, name, description)
		if withChild {
			out += `
resource "pve_lxc_snapshot" "child" {
  node       = "pve"
  vmid       = 150
  name       = "child"
  depends_on = [pve_lxc_snapshot.test]
}
`
		}
		return out
	}
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if _, ok := sim.Container(150); !ok {
				return fmt.Errorf("destroying the snapshots removed container 150")
			}
			return checkSnapshots(c, map[string]string{})(s)
		},
		Steps: []resource.TestStep{
			{
				Config: cfg("before-upgrade", "first", false),
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(snapAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(snapAddr, tfjsonpath.New("id"), knownvalue.StringExact("pve/150/before-upgrade")),
					statecheck.ExpectKnownValue(snapAddr, tfjsonpath.New("parent"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(snapAddr, tfjsonpath.New("description"), knownvalue.StringExact("first")),
					statecheck.ExpectKnownValue(snapAddr, tfjsonpath.New("snaptime"), knownvalue.Int64Func(func(v int64) error {
						if v <= 0 {
							return fmt.Errorf("snaptime %d is not a time", v)
						}
						return nil
					})),
				},
				Check: checkSnapshots(c, map[string]string{"before-upgrade": "first\n"}),
			},
			{
				ResourceName:      snapAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				ResourceName:  snapAddr,
				ImportState:   true,
				ImportStateId: "pve/150",
				ExpectError: wrapTolerant(`Unexpected Import Identifier`,
					`expected <node>/<vmid>/<snapshot name> such as pve/101/before-upgrade, got "pve/150"`),
			},
			{
				ResourceName:  snapAddr,
				ImportState:   true,
				ImportStateId: "pve/150/no.dots",
				ExpectError:   regexp.MustCompile(`Unexpected Import Identifier`),
			},
			{
				Config: cfg("before-upgrade", "second\nline two", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(snapAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(snapAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(snapAddr, tfjsonpath.New("description"), knownvalue.StringExact("second\nline two")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkSnapshots(c, map[string]string{"before-upgrade": "second\nline two\n"}),
					func(*terraform.State) error {
						if n := countRequests(sim, "PUT", "/nodes/pve/lxc/150/snapshot/before-upgrade/config"); n != 1 {
							return fmt.Errorf("%d description updates, want 1 in place", n)
						}
						if n := countRequests(sim, "DELETE", "/nodes/pve/lxc/150/snapshot/before-upgrade"); n != 0 {
							return fmt.Errorf("the snapshot was deleted %d times for a description change", n)
						}
						return nil
					},
				),
			},
			{
				// PVE's "\n" after every line is no difference.
				Config:   cfg("before-upgrade", "second\nline two", false),
				PlanOnly: true,
			},
			{
				Config: cfg("after-upgrade", "second\nline two", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(snapAddr, plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectResourceAction(childAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(snapAddr, tfjsonpath.New("id"), knownvalue.StringExact("pve/150/after-upgrade")),
					statecheck.ExpectKnownValue(childAddr, tfjsonpath.New("parent"), knownvalue.StringExact("after-upgrade")),
					statecheck.ExpectKnownValue(childAddr, tfjsonpath.New("description"), knownvalue.Null()),
				},
				Check: checkSnapshots(c, map[string]string{"after-upgrade": "second\nline two\n", "child": ""}),
			},
			{
				// Deleted outside Terraform: dropped from state, taken again;
				// its child now descends from nothing.
				PreConfig: func() {
					if _, err := c.DeleteSnapshot(context.Background(), "pve", 150, "after-upgrade", false); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(snapAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(childAddr, plancheck.ResourceActionNoop),
				}},
				Check: func(s *terraform.State) error {
					if _, ok := s.RootModule().Resources[snapAddr]; ok {
						return fmt.Errorf("%s is still in state after its snapshot was deleted", snapAddr)
					}
					if p := s.RootModule().Resources[childAddr].Primary.Attributes["parent"]; p != "" {
						return fmt.Errorf("the child's parent is %q after its parent was deleted, want none", p)
					}
					return nil
				},
			},
			{
				Config: cfg("after-upgrade", "second\nline two", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(snapAddr, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(snapAddr, tfjsonpath.New("parent"), knownvalue.StringExact("child")),
				},
				Check: checkSnapshots(c, map[string]string{"after-upgrade": "second\nline two\n", "child": ""}),
			},
		},
	})
}

// A container removed outside Terraform takes its snapshots along: the
// refresh drops both from state, and the plan creates both again.
func TestAccLXCSnapshot_containerGone(t *testing.T) {
	sim := newSim(t)
	var vmid int
	config := providerBlock(sim) + `
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
}

resource "pve_lxc_snapshot" "test" {
  node = pve_lxc_container.test.node
  vmid = pve_lxc_container.test.vmid
  name = "baseline"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := len(sim.Containers()); n != 0 {
				return fmt.Errorf("%d containers left in the simulator", n)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) (err error) {
					vmid, err = stateVMID(s, ctAddr)
					if err != nil {
						return err
					}
					if got := sim.Memory().Snapshots(vmid); !slices.Equal(got, []string{"baseline"}) {
						return fmt.Errorf("the backend holds snapshots %q of container %d, want [baseline]", got, vmid)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					if err := sim.DeleteContainerOutOfBand(vmid); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(snapAddr, plancheck.ResourceActionCreate),
				}},
				Check: func(s *terraform.State) error {
					if len(s.RootModule().Resources) != 0 {
						return fmt.Errorf("state still holds %d resources after the container was deleted", len(s.RootModule().Resources))
					}
					return nil
				},
			},
			{Config: config},
		},
	})
}

// Snapshot tasks of one container are serialised: Proxmox VE refuses a
// snapshot while another holds the container's lock, and Terraform creates
// these three in parallel.
func TestAccLXCSnapshot_parallelOnOneContainer(t *testing.T) {
	sim := newSim(t, pvesimtest.WithTaskDurationFor("vzsnapshot", 300*time.Millisecond), pvesimtest.WithTaskDurationFor("vzdelsnapshot", 300*time.Millisecond))
	c := simClient(t, sim)
	handMadeContainer(t, c, "local-lvm")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			return checkSnapshots(c, map[string]string{})(s)
		},
		Steps: []resource.TestStep{{
			Config: providerBlock(sim) + `
resource "pve_lxc_snapshot" "each" {
  count = 3
  node  = "pve"
  vmid  = 150
  name  = "snap-${count.index}"
}
`,
			Check: checkSnapshots(c, map[string]string{"snap-0": "", "snap-1": "", "snap-2": ""}),
		}},
	})
}

// Proxmox VE's refusal on a storage without snapshots is a clear error,
// and nothing is left in state.
func TestAccLXCSnapshot_unsupportedStorage(t *testing.T) {
	sim := newSim(t, withDirRootdir)
	c := simClient(t, sim)
	handMadeContainer(t, c, "local-dir")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: providerBlock(sim) + `
resource "pve_lxc_snapshot" "test" {
  node = "pve"
  vmid = 150
  name = "nope"
}
`,
			ExpectError: wrapTolerant(`Snapshots Not Supported`, `Proxmox VE cannot snapshot container 150 on node pve:`,
				`snapshot feature is not available`, `raw files on a directory storage and bind mounts cannot be snapshotted.`),
		}},
	})
}

func TestAccLXCSnapshot_validation(t *testing.T) {
	sim := newSim(t)
	cfg := func(vmid int, name string) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_snapshot" "test" {
  node = "pve"
  vmid = %d
  name = %q
}
`, vmid, name)
	}
	nameFormat := `must start with a letter and hold 2 to 40 letters, digits, '-' or '_'`
	steps := []resource.TestStep{
		{Config: cfg(150, "1st"), ExpectError: wrapTolerant(`Invalid Attribute Value Match`, nameFormat)},
		{Config: cfg(150, "a"), ExpectError: wrapTolerant(nameFormat)},
		{Config: cfg(150, "before.upgrade"), ExpectError: wrapTolerant(nameFormat)},
		{Config: cfg(150, "a"+strings.Repeat("b", 40)), ExpectError: wrapTolerant(nameFormat)},
		{Config: cfg(150, "current"), ExpectError: wrapTolerant(`value must be none of: ["current" "vzdump"]`)},
		{Config: cfg(150, "vzdump"), ExpectError: wrapTolerant(`value must be none of`)},
		{Config: cfg(99, "ok"), ExpectError: wrapTolerant(`vmid value must be between 100 and 999999999, got: 99`)},
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// The documented example works as written, against the simulator.
func TestAccLXCSnapshot_example(t *testing.T) {
	sim := newSim(t)
	example, err := os.ReadFile("../../examples/resources/pve_lxc_snapshot/resource.tf")
	if err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := len(sim.Containers()); n != 0 {
				return fmt.Errorf("%d containers left in the simulator", n)
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: providerBlock(sim) + string(example),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("pve_lxc_snapshot.before_upgrade", tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^pve/\d+/before-pg17$`))),
			},
			Check: func(s *terraform.State) error {
				vmid, err := stateVMID(s, "pve_lxc_container.db")
				if err != nil {
					return err
				}
				if got := sim.Memory().Snapshots(vmid); !slices.Equal(got, []string{"before-pg17"}) {
					return fmt.Errorf("container %d has snapshots %q, want [before-pg17]", vmid, got)
				}
				return nil
			},
		}},
	})
}

package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

const ctAddr = "pve_lxc_container.test"

// simContainer returns the simulator's view of the container in state.
func simContainer(t *testing.T, sim *pvesimtest.Sim, s *terraform.State) (pvesim.ContainerInfo, error) {
	t.Helper()
	rs, ok := s.RootModule().Resources[ctAddr]
	if !ok {
		return pvesim.ContainerInfo{}, fmt.Errorf("%s not in state", ctAddr)
	}
	vmid, err := strconv.Atoi(rs.Primary.Attributes["vmid"])
	if err != nil {
		return pvesim.ContainerInfo{}, err
	}
	info, ok := sim.Container(vmid)
	if !ok {
		return pvesim.ContainerInfo{}, fmt.Errorf("container %d not in the simulator", vmid)
	}
	return info, nil
}

// checkSimConfig asserts a key of the container's config in the
// simulator, as GET .../config shows it: pending values count ("" = absent).
func checkSimConfig(t *testing.T, sim *pvesimtest.Sim, key, want string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		info, err := simContainer(t, sim, s)
		if err != nil {
			return err
		}
		got, pending := info.Pending[key]
		if !pending {
			got = info.Config[key]
		}
		if slices.Contains(info.PendingDelete, key) {
			got = ""
		}
		if got != want {
			return fmt.Errorf("simulator config %s = %q, want %q (config: %v, pending: %v)", key, got, want, info.Config, info.Pending)
		}
		return nil
	}
}

func TestAccContainer_lifecycle(t *testing.T) {
	sim := newSim(t)
	var vmid int
	cfg := func(body string) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
  %s
}
`, body)
	}
	base := `
  hostname    = "web1"
  memory      = 256
  tags        = ["web", "db"]
  description = "hello"
  network = [{ bridge = "vmbr0", ip = "10.0.0.5/24", gw = "10.0.0.1" }]
`
	// The container made privileged: a replacement, then recreated after an
	// out-of-band delete.
	privileged := cfg(`
  hostname     = "web1"
  memory       = 512
  cores        = 2
  unprivileged = false
  network = [{ bridge = "vmbr0", ip = "10.0.0.6/24", gw = "10.0.0.1" }]
`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if n := len(sim.Containers()); n != 0 {
				return fmt.Errorf("%d containers left in the simulator", n)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg(base),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("status"), knownvalue.StringExact("running")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("ipv4"), knownvalue.StringExact("10.0.0.5")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("memory"), knownvalue.Int64Exact(256)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("swap"), knownvalue.Int64Exact(512)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("disk_size"), knownvalue.Float64Exact(4)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("unprivileged"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("storage"), knownvalue.StringExact("local-lvm")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("network").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("eth0")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("mac_addresses").AtSliceIndex(0), knownvalue.StringRegexp(regexp.MustCompile(`^BC:24:11:`))),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("id"), knownvalue.StringRegexp(regexp.MustCompile(`^pve/\d+$`))),
				},
				Check: resource.ComposeTestCheckFunc(
					checkSimConfig(t, sim, "memory", "256"),
					checkSimConfig(t, sim, "tags", "db;web"),
					checkSimConfig(t, sim, "hostname", "web1"),
					func(s *terraform.State) error {
						info, err := simContainer(t, sim, s)
						vmid = info.VMID
						return err
					},
				),
			},
			{
				ResourceName:            ctAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "password", "template"},
			},
			{
				Config: cfg(`
  hostname    = "web1"
  memory      = 512
  cores       = 2
  tags        = ["db", "Prod"]
  description = "hello again"
  network = [{ bridge = "vmbr0", ip = "10.0.0.6/24", gw = "10.0.0.1" }]
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("memory"), knownvalue.Int64Exact(512)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("ipv4"), knownvalue.StringExact("10.0.0.6")),
				},
				Check: resource.ComposeTestCheckFunc(
					checkSimConfig(t, sim, "memory", "512"),
					checkSimConfig(t, sim, "cores", "2"),
					checkSimConfig(t, sim, "tags", "db;prod"),
					func(s *terraform.State) error {
						info, err := simContainer(t, sim, s)
						if err == nil && info.VMID != vmid {
							return fmt.Errorf("vmid changed from %d to %d: replaced, not updated", vmid, info.VMID)
						}
						return err
					},
				),
			},
			{
				// The same configuration plans nothing.
				Config: cfg(`
  hostname    = "web1"
  memory      = 512
  cores       = 2
  tags        = ["prod", "DB"]
  description = "hello again\n"
  network = [{ bridge = "vmbr0", ip = "10.0.0.6/24", gw = "10.0.0.1" }]
`),
				PlanOnly: true,
			},
			{
				Config: privileged,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionReplace)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("unprivileged"), knownvalue.Bool(false)),
				},
				Check: checkSimConfig(t, sim, "unprivileged", ""),
			},
			{
				PreConfig: func() {
					for _, c := range sim.Containers() {
						if err := sim.DeleteContainerOutOfBand(c.VMID); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: privileged,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionCreate)},
				},
				Check: func(s *terraform.State) error {
					_, err := simContainer(t, sim, s)
					return err
				},
			},
		},
	})
}

// The id stays the same across in-place updates of every kind PVE allows.
func TestAccContainer_inPlaceUpdates(t *testing.T) {
	sim := newSim(t)
	cfg := func(body string) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 150
  os_template = "debian-12-standard"
  %s
}
`, body)
	}
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg(`
  disk_size = 4
  mount_points = { mp0 = { storage = "local-lvm", size = 1, path = "/data" } }
`),
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(ctAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("id"), knownvalue.StringExact("pve/150")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("mount_points").AtMapKey("mp0").AtMapKey("volume"), knownvalue.StringRegexp(regexp.MustCompile(`^local-lvm:vm-150-disk-\d+$`))),
				},
			},
			{
				Config: cfg(`
  disk_size = 6
  started   = false
  onboot    = true
  startup   = { order = 2, up = 10 }
  features  = { nesting = true }
  mount_points = {
    mp0 = { storage = "local-lvm", size = 2, path = "/data", backup = true }
    mp1 = { storage = "local-lvm", size = 1, path = "/logs" }
  }
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(ctAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("status"), knownvalue.StringExact("stopped")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("disk_size"), knownvalue.Float64Exact(6)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("mount_points").AtMapKey("mp0").AtMapKey("size"), knownvalue.Float64Exact(2)),
				},
				Check: resource.ComposeTestCheckFunc(
					checkSimConfig(t, sim, "onboot", "1"),
					checkSimConfig(t, sim, "startup", "order=2,up=10"),
					checkSimConfig(t, sim, "features", "nesting=1"),
				),
			},
			{
				Config: cfg(`
  disk_size = 6
  mount_points = { mp1 = { storage = "local-lvm", size = 1, path = "/logs" } }
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate)},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sameID.AddStateValue(ctAddr, tfjsonpath.New("id")),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("status"), knownvalue.StringExact("running")),
				},
				Check: checkSimConfig(t, sim, "mp0", ""),
			},
			{
				// Shrinking a disk cannot happen in place, nor as a side
				// effect (resource_container_dataloss_test.go).
				Config: cfg(`
  disk_size = 5
  mount_points = { mp1 = { storage = "local-lvm", size = 1, path = "/logs" } }
`),
				ExpectError: regexp.MustCompile(`Volume Cannot Shrink`),
			},
		},
	})
}

func TestAccContainer_validation(t *testing.T) {
	cases := map[string]struct {
		body string
		want string
	}{
		"hostname":  {`hostname = "web_1"`, `must be a DNS label`},
		"long host": {`hostname = "a123456789a123456789a123456789a123456789a123456789a123456789abcd"`, `must be a DNS label`},
		"vmid":      {`vmid = 99`, `vmid value must be between 100 and 999999999`},
		"memory":    {`memory = 8`, `memory value must be between 16 and 8796093022207`},
		"cores":     {`cores = 0`, `cores value must be between 1 and 8192`},
		"cidr":      {`network = [{ ip = "10.0.0.5" }]`, `must be dhcp, manual or an IPv4 address in CIDR form`},
		"ip6":       {`network = [{ ip6 = "10.0.0.5/24" }]`, `IPv6 address in CIDR form`},
		"mac":       {`network = [{ hwaddr = "01:00:5E:00:00:01" }]`, `must be a unicast MAC address`},
		"tag":       {`tags = ["bad tag"]`, `must start with a letter, digit or\s+underscore`},
		"slot":      {`mount_points = { data = { storage = "local-lvm", size = 1, path = "/data" } }`, `must be a mount point slot`},
		"no image":  {``, `Missing OS Image`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sim := newSim(t)
			image := `os_template = "debian-12-standard"`
			if name == "no image" {
				image = ""
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node = "pve"
  %s
  %s
}
`, image, tc.body),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// Feature flags other than nesting need root@pam; an API token is refused at
// plan time with an explanation, while a password login gets them through.
func TestAccContainer_featuresNeedRoot(t *testing.T) {
	sim := newSim(t)
	body := `
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
  features    = { nesting = true, keyctl = true, fuse = true }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      providerBlock(sim) + body,
				ExpectError: regexp.MustCompile(`(?s)Feature Flags Need root@pam.*API token`),
			},
			{
				Config: providerBlockRoot(sim) + body,
				Check:  checkSimConfig(t, sim, "features", "fuse=1,keyctl=1,nesting=1"),
			},
		},
	})
}

// A container made outside Terraform, imported with an import block under a
// configuration that describes it, plans no change at all.
func TestAccContainer_importMatchesConfig(t *testing.T) {
	sim := newSim(t)
	ctx := context.Background()
	c := simClient(t, sim)
	img, err := c.EnsureOSImage(ctx, "pve", "debian-12-standard", "")
	if err != nil {
		t.Fatal(err)
	}
	params := pveapi.NewParams().Set("ostemplate", img.VolID).Set("hostname", "legacy").SetInt("memory", 1024).
		Set("rootfs", "local-lvm:6").Set("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.9/24,gw=10.0.0.1").
		Set("tags", "b,A").Set("description", "made by hand")
	if _, err := c.CreateContainer(ctx, "pve", 321, params); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartContainer(ctx, "pve", 321); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_5_0)},
		Steps: []resource.TestStep{{
			ResourceName:    ctAddr,
			ImportStateId:   "pve/321",
			ImportState:     true,
			ImportStateKind: resource.ImportBlockWithID,
			Config: providerBlock(sim) + `
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}

resource "pve_lxc_container" "test" {
  node        = "pve"
  vmid        = 321
  hostname    = "legacy"
  os_template = "debian-12-standard"
  memory      = 1024
  disk_size   = 6
  tags        = ["a", "B"]
  description = "made by hand"
  network     = [{ bridge = "vmbr0", ip = "10.0.0.9/24", gw = "10.0.0.1" }]
}
`,
			ImportPlanChecks: resource.ImportPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionNoop),
					plancheck.ExpectKnownValue(ctAddr, tfjsonpath.New("os_template"), knownvalue.StringExact("debian-12-standard")),
				},
			},
		}},
	})
}

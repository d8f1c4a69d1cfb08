package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Changes that would destroy a container's data as a side effect are
// refused at plan time: a smaller disk_size or mount point size (PVE
// cannot shrink a volume), and a storage that cannot hold container
// volumes (which today destroyed the container, then failed to create it
// again). The container stays untouched. A deliberate rebuild with a
// smaller disk goes through taint.
func TestAccContainer_dataLossRefused(t *testing.T) {
	sim := newSim(t)
	cfg := func(body string) string {
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
  hostname    = "keep"
  %s
}
`, body)
	}
	base := `
  disk_size    = 8
  mount_points = { mp0 = { storage = "local-lvm", size = 4, path = "/srv" } }
`
	sameContainer := statecheck.CompareValue(compare.ValuesSame())
	untouched := resource.ComposeTestCheckFunc(
		checkSimConfig(t, sim, "rootfs", "local-lvm:vm-100-disk-0,size=8G"),
		checkStateMatchesSim(sim, 1),
	)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            cfg(`vmid = 100` + base),
				ConfigStateChecks: []statecheck.StateCheck{sameContainer.AddStateValue(ctAddr, tfjsonpath.New("id"))},
			},
			{
				Config: cfg(`vmid = 100
  disk_size    = 4
  mount_points = { mp0 = { storage = "local-lvm", size = 4, path = "/srv" } }`),
				ExpectError: wrapTolerant("Volume Cannot Shrink", "disk_size is 4 GiB, smaller than the 8 GiB the volume has",
					"Proxmox VE cannot shrink a volume", "terraform taint <address>"),
			},
			{
				Config: cfg(`vmid = 100
  disk_size    = 8
  mount_points = { mp0 = { storage = "local-lvm", size = 2.5, path = "/srv" } }`),
				ExpectError: wrapTolerant("Volume Cannot Shrink", `mount_points["mp0"].size is 2.5 GiB, smaller than the 4 GiB`),
			},
			{
				Config: cfg(`vmid = 100
  storage = "local"` + base),
				ExpectError: wrapTolerant("Storage Cannot Hold Container Volumes",
					`Storage "local" on node pve holds backup,iso,snippets,vztmpl, not container volumes`,
					"Storages of node pve that hold container volumes: local-lvm."),
			},
			{
				Config: cfg(`vmid = 100
  disk_size    = 8
  mount_points = { mp0 = { storage = "nowhere", size = 4, path = "/srv" } }`),
				ExpectError: wrapTolerant("Storage Cannot Hold Container Volumes", `Node pve has no storage "nowhere" (it has local, local-lvm)`),
			},
			{
				// The same container is still there, as it was.
				Config:            cfg(`vmid = 100` + base),
				Check:             untouched,
				ConfigStateChecks: []statecheck.StateCheck{sameContainer.AddStateValue(ctAddr, tfjsonpath.New("id"))},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionNoop)},
				},
			},
			{
				// A change that replaces the container anyway may shrink it.
				Config: cfg(`vmid = 100
  unprivileged = false
  disk_size    = 4`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: checkSimConfig(t, sim, "rootfs", "local-lvm:vm-100-disk-0,size=4G"),
			},
			{
				// The deliberate way: taint, then apply the smaller size.
				Taint: []string{ctAddr},
				Config: cfg(`vmid = 100
  unprivileged = false
  disk_size    = 2`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: checkSimConfig(t, sim, "rootfs", "local-lvm:vm-100-disk-0,size=2G"),
			},
		},
	})
}

// A create on a storage that cannot hold containers is refused at plan
// time, before anything is created.
func TestAccContainer_createOnUnsuitableStorage(t *testing.T) {
	sim := newSim(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: providerBlock(sim) + `
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
  storage     = "local"
}
`,
			ExpectError: wrapTolerant("Storage Cannot Hold Container Volumes", `Storage "local" on node pve holds`),
		}},
	})
	if n := countRequests(sim, "POST", "/nodes/pve/lxc"); n != 0 {
		t.Errorf("%d create requests; the plan should have stopped the apply", n)
	}
}

package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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

// withSecondThinPool adds a second LVM-thin storage for container volumes.
var withSecondThinPool = pvesimtest.WithStorages(append(pvesim.DefaultStorages(),
	pvesim.StorageConfig{ID: "data2", Type: "lvmthin", Content: []string{"images", "rootdir"}, Total: 100 << 30},
	pvesim.StorageConfig{ID: "local-dir", Type: "dir", Content: []string{"images", "rootdir"}, Path: "/mnt/local-dir", Total: 50 << 30})...)

// A full-clone image: containers are copies, on the storage they ask for
// (PVE gets full=1 and storage), not linked to the image; a dir storage
// defaults to full clones, and refuses linked ones before anything is built.
func TestAccLXCTemplate_goldenImageFullClones(t *testing.T) {
	sim := newSim(t, withSecondThinPool)
	host := newHostExec(t)
	sim.Memory().SetExecHook(host.hook)
	tpl := goldenTemplate(t, t.TempDir(), t.TempDir())
	config := goldenConfig(sim, tpl, `clone = "full"`) + `
resource "pve_lxc_container" "copy" {
  node     = "pve"
  hostname = "copy"
  storage  = "data2"
  template = pve_lxc_template.golden.spec
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) error {
					image, err := stateInt(s, goldenAddr, "image_vmid")
					if err != nil {
						return err
					}
					vmid, err := stateInt(s, "pve_lxc_container.copy", "vmid")
					if err != nil {
						return err
					}
					if got, want := cloneRequests(sim, image), []string{fmt.Sprintf("newid=%d full=1 hostname=copy storage=data2", vmid)}; fmt.Sprint(got) != fmt.Sprint(want) {
						return fmt.Errorf("clone requests %q, want %q", got, want)
					}
					c, _ := sim.Container(vmid)
					if _, linkedTo := sim.Memory().TemplateInfo(vmid); linkedTo != 0 || !strings.HasPrefix(c.Config["rootfs"], "data2:vm-") {
						return fmt.Errorf("the full clone is linked to %d, rootfs %q", linkedTo, c.Config["rootfs"])
					}
					return nil
				},
			},
			{
				// On a dir storage the default is a full clone.
				Config: goldenConfig(sim, tpl, `storage = "local-dir"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("image").AtMapKey("clone"), knownvalue.StringExact("full")),
				},
			},
			{
				Config:      goldenConfig(sim, tpl, "storage = \"local-dir\"\n    clone = \"linked\""),
				ExpectError: wrapTolerant(`Linked Clones Not Possible`, `storage "local-dir" is of type dir, where Proxmox VE cannot make linked clones of containers`),
			},
		},
	})
}

// What a clone of a golden image cannot be is refused at plan time, before
// anything is created; so is an image without SSH.
func TestAccLXCTemplate_goldenImageRefusals(t *testing.T) {
	sim := newSim(t, pvesimtest.WithNodes("pve", "pve2"), withSecondThinPool)
	host := newHostExec(t)
	sim.Memory().SetExecHook(host.hook)
	tpl := goldenTemplate(t, t.TempDir(), t.TempDir())
	withContainer := func(settings string) string {
		return goldenConfig(sim, tpl, "") + fmt.Sprintf(`
resource "pve_lxc_container" "bad" {
  template = pve_lxc_template.golden.spec
  %s
}
`, settings)
	}
	noSSH := providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_template" "golden" {
  node       = "pve"
  source_dir = %q
  image {}
}
`, tpl)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      noSSH,
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Golden Images Need SSH`, `Add an ssh block to the provider, or remove the image block.`),
			},
			{
				Config: providerBlockSSH(sim) + fmt.Sprintf(`
resource "pve_lxc_template" "golden" {
  node       = "pve"
  source_dir = %q
  defaults = {
    features = { keyctl = true }
  }
  image {}
}
`, tpl),
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Feature Flags Need root@pam`, `lets only root@pam set keyctl and fuse`),
			},
			{Config: goldenConfig(sim, tpl, "")},
			{
				Config:      withContainer(`node = "pve2"`),
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Golden Image on Another Node`, `is on node pve, on storage local-lvm, which is not shared`),
			},
			{
				Config:      withContainer("node = \"pve\"\n  unprivileged = false"),
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Clone Keeps the Image's Privilege`, `which is unprivileged`),
			},
			{
				Config:      withContainer("node = \"pve\"\n  storage = \"data2\""),
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Linked Clone Stays on the Image's Storage`, `lives on storage local-lvm`),
			},
			{
				Config:      withContainer("node = \"pve\"\n  disk_size = 4"),
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Clone Cannot Shrink the Image's Disk`, `Set disk_size to 6 or more`),
			},
			{
				// A bigger disk is fine: the clone's disk is grown.
				Config: withContainer("node = \"pve\"\n  disk_size = 8"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pve_lxc_container.bad", tfjsonpath.New("disk_size"), knownvalue.Float64Exact(8)),
				},
			},
		},
	})
}

// With a fixed VMID a rebuild must remove the old image first, which its
// linked clones prevent: nothing changes and the error says what to do.
// An image removed outside Terraform is built again. Destroying the
// template while a clone it does not manage uses the image fails and
// keeps it in state.
func TestAccLXCTemplate_goldenImageFixedVMIDAndOutsiders(t *testing.T) {
	sim := newSim(t)
	host := newHostExec(t)
	sim.Memory().SetExecHook(host.hook)
	root := t.TempDir()
	tpl := goldenTemplate(t, t.TempDir(), root)
	api := simClient(t, sim)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: goldenConfig(sim, tpl, "vmid = 9000", "web"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("image_vmid"), knownvalue.Int64Exact(9000)),
				},
			},
			{
				PreConfig: func() {
					writeTemplateFile(t, filepath.Join(tpl, "container-configs", "files", "app.conf"), "version=2\n")
				},
				Config:      goldenConfig(sim, tpl, "vmid = 9000", "web"),
				ExpectError: wrapTolerant(`Golden Image Still in Use`, `image.vmid fixes the image at VMID 9000 on node pve`, `Nothing was changed.`),
			},
			{
				// Without the clone the image is rebuilt at its VMID.
				Config: goldenConfig(sim, tpl, "vmid = 9000"),
				Check: func(*terraform.State) error {
					return checkImage(sim, 9000)
				},
			},
			{
				PreConfig: func() {
					if _, err := api.DeleteContainer(context.Background(), "pve", 9000, pveapi.DeleteContainerOptions{Purge: true}); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(goldenAddr, tfjsonpath.New("spec")),
					plancheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("image_vmid"), knownvalue.Int64Exact(9000)),
				}},
			},
			{
				Config: goldenConfig(sim, tpl, "vmid = 9000"),
				Check: func(*terraform.State) error {
					if err := checkImage(sim, 9000); err != nil {
						return err
					}
					// A linked clone made by hand, outside Terraform.
					_, err := api.CloneContainer(context.Background(), "pve", 9000, 9100, pveapi.CloneOptions{Hostname: "outsider"})
					return err
				},
			},
			{
				Config:      goldenConfig(sim, tpl, "vmid = 9000"),
				Destroy:     true,
				ExpectError: regexp.MustCompile(`Golden Image Still in Use`),
			},
			{
				PreConfig: func() {
					if _, err := api.DeleteContainer(context.Background(), "pve", 9100, pveapi.DeleteContainerOptions{Purge: true}); err != nil {
						t.Fatal(err)
					}
				},
				Config: goldenConfig(sim, tpl, "vmid = 9000"),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			if cts := sim.Containers(); len(cts) != 0 {
				return fmt.Errorf("containers left after destroy: %+v", cts)
			}
			return nil
		},
	})
}

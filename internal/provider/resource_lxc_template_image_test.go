package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

const goldenAddr = "pve_lxc_template.golden"

// goldenTemplate writes the template directory "golden" under dir: an
// expensive step, a script that saves a secret, and a file, all writing
// under root (the memory backend runs the agent on the host).
func goldenTemplate(t *testing.T, dir, root string) string {
	t.Helper()
	tpl := filepath.Join(dir, "golden")
	files := map[string]string{
		"template.conf":                         "TEMPLATE_OS=debian\nTEMPLATE_VERSION=12\nTEMPLATE_DISK=6\n",
		"container-configs/scripts/10-build.sh": "#!/usr/bin/env bash\necho build >> " + root + "/runs-build\n",
		"container-configs/scripts/20-secret.sh": "#!/usr/bin/env bash\nsave_credential app SECRET \"$(generate_password 16)\"\n" +
			"echo secret >> " + root + "/runs-secret\n",
		"container-configs/files/app.conf":        "version=1\n",
		"container-configs/files/app.conf.path":   root + "/etc\n",
		"container-configs/files/app.conf.policy": "replace\n",
	}
	writeTree(t, tpl, files)
	return tpl
}

// goldenConfig is a template with an image block and containers cloned
// from it.
func goldenConfig(sim *pvesimtest.Sim, tpl, image string, containers ...string) string {
	c := providerBlockSSH(sim) + fmt.Sprintf(`
resource "pve_lxc_template" "golden" {
  node       = "pve"
  source_dir = %q
  image {
    %s
  }
}
`, tpl, image)
	for _, name := range containers {
		c += fmt.Sprintf(`
resource "pve_lxc_container" %[1]q {
  node     = "pve"
  hostname = %[1]q
  template = pve_lxc_template.golden.spec
}
`, name)
	}
	return c
}

// lineCount counts the lines of a file the template's scripts append to.
func lineCount(path string) int {
	data, _ := os.ReadFile(path) //nolint:gosec // a test file
	return strings.Count(string(data), "\n")
}

// stateInt reads an integer attribute of a resource in state.
func stateInt(s *terraform.State, addr, attr string) (int, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return 0, fmt.Errorf("%s is not in state", addr)
	}
	return strconv.Atoi(rs.Primary.Attributes[attr])
}

// cloneRequests are the clone requests the simulator accepted for image
// vmid, as "newid=… full=… hostname=… storage=… target=…". (Parallel
// clones of one image find it locked and are sent again.)
func cloneRequests(sim *pvesimtest.Sim, vmid int) []string {
	var out []string
	for _, r := range sim.Requests() {
		if r.Method != "POST" || r.Path != fmt.Sprintf("/api2/json/nodes/pve/lxc/%d/clone", vmid) || r.Status != 200 {
			continue
		}
		var parts []string
		for _, k := range []string{"newid", "full", "hostname", "storage", "target"} {
			if v, ok := r.Params[k]; ok {
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// The image lifecycle on the memory backend: the template builds one
// image (provisioned once, generalised, a template in PVE) and containers
// are linked clones of it that run only the step that saved a credential;
// a changed template builds a new image, the clones get the changed step
// in place, and the old image stays retired while linked clones use it;
// once they are gone the next apply removes it, and destroy removes the
// current image.
func TestAccLXCTemplate_goldenImageLifecycle(t *testing.T) {
	sim := newSim(t)
	host := newHostExec(t)
	sim.Memory().SetExecHook(host.hook)
	root, dir := t.TempDir(), t.TempDir()
	tpl := goldenTemplate(t, dir, root)
	var first, second int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if cts := sim.Containers(); len(cts) != 0 {
				return fmt.Errorf("%d containers left after destroy: %+v", len(cts), cts)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: goldenConfig(sim, tpl, "", "web1", "web2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(goldenAddr, tfjsonpath.New("image_vmid")),
					plancheck.ExpectUnknownValue("pve_lxc_container.web1", tfjsonpath.New("template")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("image").AtMapKey("clone"), knownvalue.StringExact("linked")),
					statecheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("image").AtMapKey("storage"), knownvalue.StringExact("local-lvm")),
					statecheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("retired_image_vmids"), knownvalue.ListSizeExact(0)),
					expectSpec(goldenAddr, tfjsonpath.New("spec"), func(spec templatedir.Spec, _ string) error {
						img := spec.Image
						if img == nil || img.Node != "pve" || img.Storage != "local-lvm" || img.Clone != "linked" ||
							!slices.Equal(img.Rerun, []string{"script:20-secret.sh"}) {
							return fmt.Errorf("image in the spec: %+v", img)
						}
						return nil
					}),
				},
				Check: func(s *terraform.State) (err error) {
					if first, err = stateInt(s, goldenAddr, "image_vmid"); err != nil {
						return err
					}
					if err := checkImage(sim, first); err != nil {
						return err
					}
					if got := cloneRequests(sim, first); len(got) != 2 || !strings.Contains(got[0], "full=0") || !strings.Contains(got[1], "full=0") {
						return fmt.Errorf("clone requests for image %d: %q, want two linked clones", first, got)
					}
					for _, ct := range []string{"web1", "web2"} {
						vmid, err := stateInt(s, "pve_lxc_container."+ct, "vmid")
						if err != nil {
							return err
						}
						if _, linkedTo := sim.Memory().TemplateInfo(vmid); linkedTo != first {
							return fmt.Errorf("%s (CT %d) is linked to %d, want image %d", ct, vmid, linkedTo, first)
						}
						if c, _ := sim.Container(vmid); c.Config["hostname"] != ct || c.Status != "running" {
							return fmt.Errorf("%s: hostname %q, status %s", ct, c.Config["hostname"], c.Status)
						}
					}
					if b, sec := lineCount(root+"/runs-build"), lineCount(root+"/runs-secret"); b != 1 || sec != 3 {
						return fmt.Errorf("the build step ran %d times (want 1, in the image), the secret step %d times (want 3)", b, sec)
					}
					return checkProvisionedAll(s, tpl, "web1", "web2")
				},
			},
			{
				// A changed step rebuilds the image; the clones keep running
				// and run the step in place; the old image is retired.
				PreConfig: func() {
					writeTemplateFile(t, filepath.Join(tpl, "container-configs", "scripts", "10-build.sh"),
						"#!/usr/bin/env bash\necho build-v2 >> "+root+"/runs-build\n")
				},
				Config: goldenConfig(sim, tpl, "", "web1", "web2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(goldenAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pve_lxc_container.web1", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pve_lxc_container.web2", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) (err error) {
					if second, err = stateInt(s, goldenAddr, "image_vmid"); err != nil {
						return err
					}
					if second == first {
						return fmt.Errorf("the image was not rebuilt: still %d", first)
					}
					if err := checkImage(sim, second); err != nil {
						return err
					}
					if err := resource.TestCheckResourceAttr(goldenAddr, "retired_image_vmids.0", strconv.Itoa(first))(s); err != nil {
						return err
					}
					if _, ok := sim.Container(first); !ok {
						return fmt.Errorf("the old image %d was removed under its linked clones", first)
					}
					if b := lineCount(root + "/runs-build"); b != 4 {
						return fmt.Errorf("the build step ran %d times, want 4 (two images, two clones updated)", b)
					}
					return checkProvisionedAll(s, tpl, "web1", "web2")
				},
			},
			{
				// The clones go; the retired image can go now, which the next
				// plan shows.
				Config:             goldenConfig(sim, tpl, ""),
				ExpectNonEmptyPlan: true,
			},
			{
				Config: goldenConfig(sim, tpl, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(goldenAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(goldenAddr, tfjsonpath.New("retired_image_vmids")),
					plancheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("image_vmid"), knownvalue.NotNull()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(goldenAddr, tfjsonpath.New("retired_image_vmids"), knownvalue.ListSizeExact(0)),
				},
				Check: func(*terraform.State) error {
					if _, ok := sim.Container(first); ok {
						return fmt.Errorf("the retired image %d is still there", first)
					}
					return checkImage(sim, second)
				},
			},
		},
	})
}

// checkImage checks that vmid is a golden image: a template in PVE that
// the backend knows as one.
func checkImage(sim *pvesimtest.Sim, vmid int) error {
	c, ok := sim.Container(vmid)
	if !ok {
		return fmt.Errorf("image %d does not exist", vmid)
	}
	if tpl, _ := sim.Memory().TemplateInfo(vmid); c.Config["template"] != "1" || !tpl || c.Status != "stopped" {
		return fmt.Errorf("image %d: template %q (backend %v), status %s", vmid, c.Config["template"], tpl, c.Status)
	}
	if !strings.HasPrefix(c.Config["rootfs"], "local-lvm:base-") {
		return fmt.Errorf("image %d's rootfs %q is no base volume", vmid, c.Config["rootfs"])
	}
	return nil
}

// checkProvisionedAll checks that each container's provisioned map holds
// the digests of every step of the template as it is now: right from the
// clone's first run, though most steps ran only in the image.
func checkProvisionedAll(s *terraform.State, tpl string, containers ...string) error {
	spec, err := templatedir.LoadTemplate(tpl)
	if err != nil {
		return err
	}
	for _, ct := range containers {
		rs := s.RootModule().Resources["pve_lxc_container."+ct]
		got := map[string]string{}
		for k, v := range rs.Primary.Attributes {
			if key, ok := strings.CutPrefix(k, "provisioned."); ok && key != "%" {
				got[key] = v
			}
		}
		want := provision.Desired(spec.Spec)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("%s provisioned:\n%v\nwant:\n%v", ct, got, want)
		}
	}
	return nil
}

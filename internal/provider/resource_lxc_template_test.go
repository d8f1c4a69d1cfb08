package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// quickstartTemplates is the example template directory, from this package.
var quickstartTemplates, _ = filepath.Abs("../../examples/quickstart/templates")

// countRequests counts the simulator's requests of one method and path.
func countRequests(sim *pvesimtest.Sim, method, path string) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Method == method && r.Path == "/api2/json"+path {
			n++
		}
	}
	return n
}

func simClient(t *testing.T, sim *pvesimtest.Sim) *pveapi.Client {
	t.Helper()
	c, err := pveapi.New(pveapi.Config{Endpoint: sim.Endpoint(), APIToken: sim.APIToken(), TLSFingerprint: sim.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAccLXCTemplate(t *testing.T) {
	sim := newSim(t, pvesimtest.WithNodes("pve", "pve2"))
	cfg := func(node, extra string) string {
		return providerBlock(sim) + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %[1]q
}

resource "pve_lxc_template" "web" {
  node       = %[2]q
  storage    = "local"
  source_dir = "%[1]s/web"
  %[3]s
}

resource "pve_lxc_template" "devbox" {
  node        = "pve"
  source_spec = data.pve_template_discovery.all.templates["devbox"]
  name        = "devbox-custom"
}
`, quickstartTemplates, node, extra)
	}
	digest := statecheck.CompareValue(compare.ValuesDiffer())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg("pve", ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pve_lxc_template.web", tfjsonpath.New("os_template_volid"),
						knownvalue.StringRegexp(regexp.MustCompile(`^local:vztmpl/debian-12-standard_[^/]+\.tar\.zst$`))),
					expectSpec("pve_lxc_template.web", tfjsonpath.New("spec"), specNamed("web")),
					expectSpec("pve_lxc_template.devbox", tfjsonpath.New("spec"), specNamed("devbox-custom")),
					statecheck.ExpectKnownValue("pve_lxc_template.devbox", tfjsonpath.New("id"), knownvalue.StringExact("pve/devbox-custom")),
					digest.AddStateValue("pve_lxc_template.web", tfjsonpath.New("sha256")),
				},
				Check: func(*terraform.State) error {
					// Both templates use the same image: one download task.
					if n := countRequests(sim, "POST", "/nodes/pve/aplinfo"); n != 1 {
						return fmt.Errorf("%d image downloads, want exactly 1", n)
					}
					if vols := sim.Volumes("pve", "local"); len(vols) != 1 {
						return fmt.Errorf("storage local holds %v, want one image", vols)
					}
					return nil
				},
			},
			{
				Config: cfg("pve", `defaults = { memory = 2048 }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("pve_lxc_template.web", plancheck.ResourceActionUpdate),
						expectPlannedSpec("pve_lxc_template.web", tfjsonpath.New("spec"), func(s templatedir.Spec, _ string) error {
							if s.Defaults.Memory != 2048 {
								return fmt.Errorf("memory %d, want 2048", s.Defaults.Memory)
							}
							return nil
						}),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{digest.AddStateValue("pve_lxc_template.web", tfjsonpath.New("sha256"))},
			},
			{
				Config:   cfg("pve", `defaults = { memory = 2048 }`),
				PlanOnly: true,
			},
			{
				// The image removed behind Terraform's back is downloaded again.
				PreConfig: func() {
					c := simClient(t, sim)
					vols, err := c.StorageContent(context.Background(), "pve", "local", "vztmpl")
					if err != nil || len(vols) != 1 {
						t.Fatalf("listing images: %v %v", vols, err)
					}
					if _, err := c.DeleteVolume(context.Background(), "pve", "local", vols[0].VolID); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("pve", `defaults = { memory = 2048 }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("pve_lxc_template.web", plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					if vols := sim.Volumes("pve", "local"); len(vols) != 1 {
						return fmt.Errorf("storage local holds %v after the re-download, want one image", vols)
					}
					return nil
				},
			},
			{
				Config: cfg("pve2", `defaults = { memory = 2048 }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("pve_lxc_template.web", plancheck.ResourceActionReplace)},
				},
				Check: func(*terraform.State) error {
					if vols := sim.Volumes("pve2", "local"); len(vols) != 1 {
						return fmt.Errorf("pve2's storage local holds %v, want the image", vols)
					}
					return nil
				},
			},
		},
	})
}

func TestAccLXCTemplate_validation(t *testing.T) {
	sim := newSim(t)
	cases := map[string]struct{ body, want string }{
		"both sources": {fmt.Sprintf(`
  source_dir  = "%[1]s/web"
  source_spec = jsonencode({ name = "x", os_template = "debian-12-standard" })`, quickstartTemplates), `(?s)Invalid Attribute Combination`},
		"no source": {``, `(?s)Invalid Attribute Combination`},
		"bad dir":   {`source_dir = "/nonexistent/template"`, `Cannot Read Template Directory`},
		"conflicting buckets": {fmt.Sprintf(`
  source_dir = "%[1]s/web"
  packages = concat(pve_package_bucket.a.packages, pve_package_bucket.b.packages)`, quickstartTemplates),
			`(?s)Conflicting Package Versions.*jq=1.6-2.*"a".*jq=1.7-1.*"b"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: providerBlock(sim) + fmt.Sprintf(`
resource "pve_package_bucket" "a" {
  name = "a"
  package {
    manager = "apt"
    spec    = "jq=1.6-2"
  }
}
resource "pve_package_bucket" "b" {
  name = "b"
  package {
    manager = "apt"
    spec    = "jq=1.7-1"
  }
}
resource "pve_lxc_template" "t" {
  node = "pve"
  %s
}
`, tc.body),
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}

// The whole chain: discovery → bucket → template → container.
func TestAccChain_discoveryBucketTemplateContainer(t *testing.T) {
	sim := newSim(t)
	config := providerBlock(sim) + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_package_bucket" "extras" {
  name = "extras"
  package {
    manager = "apt"
    spec    = "htop"
  }
}

resource "pve_lxc_template" "web" {
  node        = "pve"
  source_spec = data.pve_template_discovery.all.templates["web"]
  packages    = pve_package_bucket.extras.packages
  defaults    = { memory = 384 }
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  template = pve_lxc_template.web.spec
}
`, quickstartTemplates)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("memory"), knownvalue.Int64Exact(384)),
					statecheck.ExpectKnownValue(ctAddr, tfjsonpath.New("hostname"), knownvalue.StringExact("web")),
					statecheck.CompareValuePairs(ctAddr, tfjsonpath.New("template"),
						"pve_lxc_template.web", tfjsonpath.New("spec"), compare.ValuesSame()),
					expectSpec(ctAddr, tfjsonpath.New("template"), func(s templatedir.Spec, _ string) error {
						if !slices.ContainsFunc(s.Packages, func(p templatedir.Package) bool { return p.Bucket == "extras" && p.Spec == "htop" }) {
							return fmt.Errorf("the bucket's package is not in the template: %+v", s.Packages)
						}
						return nil
					}),
				},
				Check: checkSimConfig(t, sim, "memory", "384"),
			},
			{Config: config, PlanOnly: true},
		},
	})
}

// specNamed accepts a spec of that name.
func specNamed(name string) func(templatedir.Spec, string) error {
	return func(s templatedir.Spec, _ string) error {
		if s.Name != name {
			return fmt.Errorf("name %q, want %q", s.Name, name)
		}
		return nil
	}
}

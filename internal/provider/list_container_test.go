package provider

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// envQueryTerraform names a Terraform CLI of version 1.14 or later, for the
// tests of `terraform query` and resource identity; .ci/build-terraform-query
// builds one and prints its path.
const envQueryTerraform = "PVE_TEST_TERRAFORM_QUERY"

// useQueryTerraform points this acceptance test at $PVE_TEST_TERRAFORM_QUERY
// when it is set; the test's TerraformVersionChecks then skip it, saying so,
// when the CLI it runs is too old.
func useQueryTerraform(t *testing.T) {
	t.Helper()
	if tf := os.Getenv(envQueryTerraform); tf != "" {
		t.Setenv("TF_ACC_TERRAFORM_PATH", tf)
		return
	}
	t.Logf("%s is not set, so this test uses TF_ACC_TERRAFORM_PATH; it needs a newer Terraform than 1.11 "+
		"(.ci/build-terraform-query builds Terraform 1.14 and prints its path)", envQueryTerraform)
}

// createOutOfBand makes a container through the API, as someone using the
// Proxmox VE web UI would, with the Debian appliance, and starts it when asked.
func createOutOfBand(t *testing.T, c *pveapi.Client, node string, vmid int, start bool, params *pveapi.Params) {
	t.Helper()
	ctx := context.Background()
	img, err := c.EnsureOSImage(ctx, node, "debian-12-standard", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateContainer(ctx, node, vmid, params.Clone().Set("ostemplate", img.VolID)); err != nil {
		t.Fatalf("creating container %d on %s: %v", vmid, node, err)
	}
	if !start {
		return
	}
	if _, err := c.StartContainer(ctx, node, vmid); err != nil {
		t.Fatalf("starting container %d on %s: %v", vmid, node, err)
	}
}

// dashboardFleet is what a team leaving the dashboard has: web and db
// containers on two nodes, and a golden image converted to a template.
func dashboardFleet(t *testing.T, sim *pvesimtest.Sim) {
	t.Helper()
	c := simClient(t, sim)
	base := func(hostname, tags string) *pveapi.Params {
		return pveapi.NewParams().Set("hostname", hostname).Set("tags", tags).Set("rootfs", "local-lvm:4")
	}
	createOutOfBand(t, c, "pve", 101, true, base("web-01", "web;prod").SetInt("memory", 1024).
		Set("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.11/24,gw=10.0.0.1").Set("description", "made by hand"))
	createOutOfBand(t, c, "pve", 102, false, base("web-02", "web;staging").Set("net0", "name=eth0,bridge=vmbr0,ip=dhcp"))
	createOutOfBand(t, c, "pve2", 201, true, base("db-01", "db;prod").SetInt("cores", 2).
		Set("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.21/24,gw=10.0.0.1"))
	createOutOfBand(t, c, "pve", 900, false, base("web-golden", "web"))
	if err := c.ConvertToTemplate(context.Background(), "pve", 900); err != nil {
		t.Fatal(err)
	}
}

func ctIdentity(node string, vmid int64) map[string]knownvalue.Check {
	return map[string]knownvalue.Check{"node": knownvalue.StringExact(node), "vmid": knownvalue.Int64Exact(vmid)}
}

// The list resource finds containers made outside Terraform, filtered by
// node, tags and host name, never lists templates, and costs one request
// per listing unless the full objects are asked for.
func TestAccContainerList(t *testing.T) {
	useQueryTerraform(t)
	sim := newSim(t, pvesimtest.WithNodes("pve", "pve2"))
	dashboardFleet(t, sim)
	configReads := func() int {
		n := 0
		for _, vmid := range []string{"pve/lxc/101", "pve/lxc/102", "pve2/lxc/201", "pve/lxc/900"} {
			n += countRequests(sim, "GET", "/nodes/"+vmid+"/config")
		}
		return n
	}
	var listingsBefore, readsBefore int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{
				// A query runs in a configuration that has the provider.
				Config: providerBlock(sim),
				Check: func(*terraform.State) error {
					listingsBefore = countRequests(sim, "GET", "/cluster/resources")
					readsBefore = configReads() // making the fleet read some
					return nil
				},
			},
			{
				Query: true,
				Config: `
list "pve_lxc_container" "all" {
  provider = pve
}

list "pve_lxc_container" "on_pve2" {
  provider = pve
  config {
    node = "pve2"
  }
}

list "pve_lxc_container" "web_prod" {
  provider = pve
  config {
    tags = ["WEB", "prod"]
  }
}

list "pve_lxc_container" "web_hosts" {
  provider = pve
  config {
    hostname = "Web-0?"
  }
}

list "pve_lxc_container" "first" {
  provider = pve
  limit    = 1
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("pve_lxc_container.all", 3),
					querycheck.ExpectIdentity("pve_lxc_container.all", ctIdentity("pve", 101)),
					querycheck.ExpectIdentity("pve_lxc_container.all", ctIdentity("pve", 102)),
					querycheck.ExpectIdentity("pve_lxc_container.all", ctIdentity("pve2", 201)),
					querycheck.ExpectNoIdentity("pve_lxc_container.all", ctIdentity("pve", 900)),
					querycheck.ExpectResourceDisplayName("pve_lxc_container.all",
						queryfilter.ByResourceIdentity(ctIdentity("pve2", 201)), knownvalue.StringExact("db-01")),

					querycheck.ExpectLength("pve_lxc_container.on_pve2", 1),
					querycheck.ExpectIdentity("pve_lxc_container.on_pve2", ctIdentity("pve2", 201)),

					querycheck.ExpectLength("pve_lxc_container.web_prod", 1),
					querycheck.ExpectIdentity("pve_lxc_container.web_prod", ctIdentity("pve", 101)),

					querycheck.ExpectLength("pve_lxc_container.web_hosts", 2),
					querycheck.ExpectIdentity("pve_lxc_container.web_hosts", ctIdentity("pve", 101)),
					querycheck.ExpectIdentity("pve_lxc_container.web_hosts", ctIdentity("pve", 102)),

					querycheck.ExpectLength("pve_lxc_container.first", 1),
					querycheck.ExpectIdentity("pve_lxc_container.first", ctIdentity("pve", 101)),
				},
			},
			{
				PreConfig: func() {
					// Five listings, one guest list each, and no config read.
					if n := countRequests(sim, "GET", "/cluster/resources") - listingsBefore; n != 5 {
						t.Errorf("the five listings made %d cluster resource requests, want 5", n)
					}
					if n := configReads() - readsBefore; n != 0 {
						t.Errorf("listings without include_resource read %d container configs, want none", n)
					}
				},
				Query: true,
				Config: `
list "pve_lxc_container" "db" {
  provider         = pve
  include_resource = true
  config {
    hostname = "db-*"
  }
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("pve_lxc_container.db", 1),
					querycheck.ExpectResourceKnownValues("pve_lxc_container.db", queryfilter.ByResourceIdentity(ctIdentity("pve2", 201)),
						[]querycheck.KnownValueCheck{
							{Path: tfjsonpath.New("id"), KnownValue: knownvalue.StringExact("pve2/201")},
							{Path: tfjsonpath.New("hostname"), KnownValue: knownvalue.StringExact("db-01")},
							{Path: tfjsonpath.New("cores"), KnownValue: knownvalue.Int64Exact(2)},
							{Path: tfjsonpath.New("os_template"), KnownValue: knownvalue.StringExact("debian-12-standard")},
							{Path: tfjsonpath.New("tags"), KnownValue: knownvalue.SetExact([]knownvalue.Check{
								knownvalue.StringExact("db"), knownvalue.StringExact("prod"),
							})},
							{Path: tfjsonpath.New("ipv4"), KnownValue: knownvalue.StringExact("10.0.0.21")},
							{Path: tfjsonpath.New("started"), KnownValue: knownvalue.Bool(true)},
							{Path: tfjsonpath.New("reboot_on_pending"), KnownValue: knownvalue.Bool(true)},
							{Path: tfjsonpath.New("template"), KnownValue: knownvalue.Null()},
						}),
				},
			},
			{
				Query: true,
				Config: `
list "pve_lxc_container" "bad" {
  provider = pve
  config {
    hostname = "web-[0-"
  }
}
`,
				ExpectError: regexp.MustCompile(`Invalid Host Name Pattern`),
			},
		},
	})
	if n := configReads() - readsBefore; n != 1 {
		t.Errorf("the include_resource listing read %d container configs, want 1 (db-01's)", n)
	}
}

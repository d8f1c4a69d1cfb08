package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// Leaving the dashboard, end to end, with the Terraform CLI as a user runs
// it: `terraform query -generate-config-out` writes import and resource
// blocks for containers made outside Terraform; applying them imports every
// container and changes nothing, in Terraform or on the cluster; the plan
// after that is empty.
func TestQueryGenerateConfigRoundTrip(t *testing.T) {
	tf := os.Getenv(envQueryTerraform)
	if tf == "" {
		t.Skipf("%s is not set: this end-to-end test of terraform query -generate-config-out needs a Terraform CLI of "+
			"version 1.14 or later; .ci/build-terraform-query builds one and prints its path", envQueryTerraform)
	}
	sim := newSim(t, pvesimtest.WithNodes("pve", "pve2"))
	adoptableFleet(t, sim)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "main.tf"), `
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}
`+providerBlock(sim))
	writeFile(t, filepath.Join(dir, "adopt.tfquery.hcl"), `
list "pve_lxc_container" "all" {
  provider = pve
}
`)
	cli := newCLISession(t, tf, dir)
	cli.run("init")
	cli.run("query", "-generate-config-out=generated.tf")

	generated := readFile(t, filepath.Join(dir, "generated.tf"))
	t.Logf("generated.tf:\n%s", generated)
	for _, id := range []string{"pve/101", "pve/102", "pve2/201", "pve2/202"} {
		node, vmid, _ := strings.Cut(id, "/")
		if !regexp.MustCompile(`(?s)import \{.*?identity\s*=\s*\{\s*node\s*=\s*"` + node + `"\s*vmid\s*=\s*` + vmid + `\s*\}`).MatchString(generated) {
			t.Errorf("generated.tf has no import block for %s:\n%s", id, generated)
		}
	}
	if n := strings.Count(generated, "import {"); n != 4 {
		t.Errorf("generated.tf has %d import blocks, want 4 (the template 900 is not one):\n%s", n, generated)
	}

	before := simDigests(sim)
	applied := cli.run("apply", "-auto-approve")
	if !strings.Contains(applied, "Resources: 4 imported, 0 added, 0 changed, 0 destroyed.") {
		t.Errorf("applying the generated configuration did more than import:\n%s\ngenerated.tf:\n%s", applied, generated)
	}
	if after := simDigests(sim); after != before {
		t.Errorf("applying the generated configuration changed the cluster:\nbefore %s\nafter  %s", before, after)
	}
	if code, out := cli.exitCode("plan", "-detailed-exitcode"); code != 0 {
		t.Errorf("the plan after the import is not empty (exit %d):\n%s\ngenerated.tf:\n%s", code, out, generated)
	}
}

// adoptableFleet is containers made through the API as the dashboard or the
// web UI would make them, with most of what pve_lxc_container manages set
// one way or another, plus a template that must not be adopted.
func adoptableFleet(t *testing.T, sim *pvesimtest.Sim) {
	t.Helper()
	c := simClient(t, sim)
	p := pveapi.NewParams
	createOutOfBand(t, c, "pve", 101, true, p().Set("hostname", "web-01").Set("tags", "web;prod").
		SetInt("memory", 1024).Set("rootfs", "local-lvm:6").Set("features", "nesting=1").SetInt("unprivileged", 1).
		Set("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.11/24,gw=10.0.0.1").
		Set("description", "Web front end.\nMade by the dashboard.\n"))
	createOutOfBand(t, c, "pve", 102, false, p().Set("hostname", "web-02").Set("tags", "web").
		Set("rootfs", "local-lvm:4").SetInt("cores", 2).Set("cpulimit", "1.5").SetInt("swap", 0).
		Set("net0", "name=eth0,bridge=vmbr0,ip=dhcp,firewall=1,tag=10").Set("mp0", "local-lvm:1,mp=/data,backup=1").
		SetInt("onboot", 1).Set("startup", "order=2,up=10").Set("nameserver", "10.0.0.1").Set("searchdomain", "example.com"))
	createOutOfBand(t, c, "pve2", 201, true, p().Set("hostname", "db-01").Set("rootfs", "local-lvm:8").
		SetInt("unprivileged", 0))
	createOutOfBand(t, c, "pve2", 202, true, p().Set("hostname", "cache-01").Set("rootfs", "local-lvm:4").
		Set("net0", "name=eth0,bridge=vmbr0,ip=10.0.0.31/24,gw=10.0.0.1,ip6=fd00::31/64").
		Set("net1", "name=eth1,bridge=vmbr0,ip=dhcp"))
	createOutOfBand(t, c, "pve", 900, false, p().Set("hostname", "golden").Set("rootfs", "local-lvm:4"))
	if err := c.ConvertToTemplate(context.Background(), "pve", 900); err != nil {
		t.Fatal(err)
	}
}

// simDigests summarises every container's config digest and status.
func simDigests(sim *pvesimtest.Sim) string {
	var b strings.Builder
	for _, c := range sim.Containers() {
		fmt.Fprintf(&b, "%d:%s:%s ", c.VMID, c.Status, c.Digest)
	}
	return b.String()
}

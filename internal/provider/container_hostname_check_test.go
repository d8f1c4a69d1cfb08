package provider

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// outsideContainer creates a container behind Terraform's back.
func outsideContainer(t *testing.T, api *pveapi.Client, vmid int, hostname string) {
	t.Helper()
	ctx := context.Background()
	img, err := api.EnsureOSImage(ctx, "pve", "debian-12-standard", "")
	if err != nil {
		t.Fatal(err)
	}
	params := pveapi.NewParams().Set("ostemplate", img.VolID).Set("hostname", hostname).Set("rootfs", "local-lvm:1")
	if _, err := api.CreateContainer(ctx, "pve", vmid, params); err != nil {
		t.Fatal(err)
	}
}

// countPrefix counts the simulator's requests of one method whose path
// starts with prefix.
func countPrefix(sim *pvesimtest.Sim, method, prefix string) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, "/api2/json"+prefix) {
			n++
		}
	}
	return n
}

// The plan of new containers warns about host names the cluster already
// has (case aside, templates aside), naming the container and the import
// command, from the one shared guest list: the plan of ten containers asks
// the cluster once. Containers the configuration tracks — a tainted one
// being replaced included — are not reported.
func TestAccContainer_duplicateHostnameWarning(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI; set TF_ACC=1 (make test does)")
	}
	sim := newSim(t)
	api := simClient(t, sim)
	outsideContainer(t, api, 200, "web1")
	outsideContainer(t, api, 201, "WEB3")
	outsideContainer(t, api, 202, "web2")
	if err := api.ConvertToTemplate(context.Background(), "pve", 202); err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t, `
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}
`+providerBlock(sim)+`
resource "pve_lxc_container" "c" {
  count       = 10
  node        = "pve"
  hostname    = "web${count.index + 1}"
  os_template = "debian-12-standard"
  memory      = 128
  disk_size   = 0.5
}
`)
	cli := newCLISession(t, terraformBinary(t), dir)
	sim.ResetRequests()
	out := cli.run("plan")
	for _, want := range []struct{ name, which, importID string }{
		{"web1", "container 200 on node pve", "pve/200"},
		{"web3", "container 201 on node pve", "pve/201"},
	} {
		re := wrapTolerant(fmt.Sprintf("Host Name %q Already in Use", want.name), fmt.Sprintf("creates a container named %q", want.name),
			"the cluster already has "+want.which+" with that host name", "terraform import <address> "+want.importID)
		if !re.MatchString(out) {
			t.Errorf("the plan does not warn about %s:\n%s", want.name, out)
		}
	}
	if n := strings.Count(out, "Already in Use"); n != 2 {
		t.Errorf("%d host name warnings, want 2 (web1, web3; web2 is a template):\n%s", n, out)
	}
	if n := countPrefix(sim, "GET", "/cluster/resources"); n != 1 {
		t.Errorf("the plan of 10 containers listed the cluster's guests %d times, want once", n)
	}
	if n := countPrefix(sim, "GET", "/nodes/pve/lxc/"); n != 0 {
		t.Errorf("the plan sent %d requests about single containers, want none", n)
	}

	cli.run("apply", "-auto-approve")
	cli.run("taint", "pve_lxc_container.c[4]")
	out = cli.run("plan")
	if strings.Contains(out, "Already in Use") {
		t.Errorf("a tainted container's replacement warns about itself:\n%s", out)
	}
	if !strings.Contains(out, "1 to add, 0 to change, 1 to destroy") {
		t.Errorf("the plan should replace the tainted container:\n%s", out)
	}
}

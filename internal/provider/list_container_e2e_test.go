package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

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
	cli := newTerraformCLI(t, tf, dir)
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

// terraformCLI runs a Terraform CLI in a directory against this test
// process's provider.
type terraformCLI struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newTerraformCLI(t *testing.T, bin, dir string) *terraformCLI {
	t.Helper()
	rc := filepath.Join(t.TempDir(), "empty.tfrc")
	writeFile(t, rc, "")
	env := append(os.Environ(), "TF_REATTACH_PROVIDERS="+serveProviderForCLI(t), "TF_CLI_CONFIG_FILE="+rc,
		"CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	return &terraformCLI{t: t, bin: bin, dir: dir, env: env}
}

// run runs a command that must succeed and returns its output.
func (c *terraformCLI) run(args ...string) string {
	c.t.Helper()
	code, out := c.exitCode(args...)
	if code != 0 {
		c.t.Fatalf("terraform %s failed (exit %d):\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// exitCode runs a command and returns its exit status and output.
func (c *terraformCLI) exitCode(args ...string) (int, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{args[0], "-no-color"}, args[1:]...)...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	case err != nil:
		c.t.Fatalf("running terraform %s: %v", strings.Join(args, " "), err)
	}
	return 0, out.String()
}

// serveProviderForCLI serves the provider from this test process until the
// test ends and returns the TF_REATTACH_PROVIDERS value that points a
// Terraform CLI at it.
func serveProviderForCLI(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	configs := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve(providerAddressForTests, providerserver.NewProtocol6(New("test")()),
			tf6server.WithDebug(ctx, configs, closed), tf6server.WithLoggingSink(t),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	var cfg *plugin.ReattachConfig
	select {
	case cfg = <-configs:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the provider server did not start within 30 s")
	}
	t.Cleanup(func() {
		cancel()
		<-closed
	})
	type addr struct{ Network, String string }
	reattach, err := json.Marshal(map[string]any{providerAddressForTests: map[string]any{
		"Protocol": string(cfg.Protocol), "ProtocolVersion": cfg.ProtocolVersion, "Pid": cfg.Pid, "Test": true,
		"Addr": addr{Network: cfg.Addr.Network(), String: cfg.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(reattach)
}

// providerAddressForTests is the address the test configurations' source
// "lxctm/pve" resolves to.
const providerAddressForTests = "registry.terraform.io/lxctm/pve"

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

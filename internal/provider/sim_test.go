package provider

import (
	"fmt"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// newSim starts a Proxmox VE simulator for one acceptance test.
func newSim(t *testing.T, opts ...pvesimtest.Option) *pvesimtest.Sim {
	t.Helper()
	return pvesimtest.New(t, opts...)
}

// providerBlock configures the provider against the simulator with its API
// token, pinning its certificate by fingerprint.
func providerBlock(sim *pvesimtest.Sim) string {
	return fmt.Sprintf(`
provider "pve" {
  endpoint        = %q
  api_token       = %q
  tls_fingerprint = %q
}
`, sim.Endpoint(), sim.APIToken(), sim.Fingerprint())
}

// providerBlockRoot configures the provider with root@pam's password, which
// PVE's root-only rules accept.
func providerBlockRoot(sim *pvesimtest.Sim) string {
	return fmt.Sprintf(`
provider "pve" {
  endpoint = %q
  username = %q
  password = %q
  ca_cert  = %q
}
`, sim.Endpoint(), sim.Username(), sim.Password(), string(sim.CACertPEM()))
}

// plainContainerConfig is a container "test" from the OS image alone, with
// body's attributes added: the configuration the plan-time refusal tests
// vary one attribute of.
func plainContainerConfig(sim *pvesimtest.Sim, body string) string {
	return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = "debian-12-standard"
  %s
}
`, body)
}

// webTemplateConfig is pve_lxc_template "web" from the quickstart's web
// template directory, with body's attributes added.
func webTemplateConfig(sim *pvesimtest.Sim, body string) string {
	return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_template" "web" {
  node       = "pve"
  source_dir = "%s/web"
  %s
}
`, quickstartTemplates, body)
}

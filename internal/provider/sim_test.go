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

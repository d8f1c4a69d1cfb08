package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// configuredClient resolves a provider block given as environment variables
// into the API client Configure would check.
func configuredClient(t *testing.T, env map[string]string) *pveapi.Client {
	t.Helper()
	data, diags := configureFromModel(t, emptyModel(), env)
	if diags.HasError() || data.API == nil {
		t.Fatalf("configuration failed:\n%s", diagSummaries(diags))
	}
	return data.API
}

func TestConfigureChecksTheConnection(t *testing.T) {
	sim := newSim(t)
	simEnv := func(extra map[string]string) map[string]string {
		m := map[string]string{"PVE_ENDPOINT": sim.Endpoint(), "PVE_API_TOKEN": sim.APIToken(), "PVE_TLS_FINGERPRINT": sim.Fingerprint()}
		for k, v := range extra {
			if v == "" {
				delete(m, k)
				continue
			}
			m[k] = v
		}
		return m
	}
	wrongToken := strings.SplitN(sim.APIToken(), "=", 2)[0] + "=00000000-0000-0000-0000-000000000000"
	tests := []struct {
		name    string
		env     map[string]string
		summary string   // "" = no diagnostics
		details []string // substrings of the detail
	}{
		{name: "reachable with valid credentials", env: simEnv(nil)},
		{name: "password login", env: simEnv(map[string]string{"PVE_API_TOKEN": "", "PVE_USERNAME": sim.Username(), "PVE_PASSWORD": sim.Password()})},
		{
			name: "wrong token", env: simEnv(map[string]string{"PVE_API_TOKEN": wrongToken}),
			summary: "Proxmox VE Rejected the Credentials", details: []string{"root@pam!", "api_token"},
		},
		{
			name: "wrong password", env: simEnv(map[string]string{"PVE_API_TOKEN": "", "PVE_USERNAME": "root@pam", "PVE_PASSWORD": "not-the-password"}),
			summary: "Proxmox VE Rejected the Credentials", details: []string{"root@pam", "username"},
		},
		{
			name: "certificate neither pinned nor signed by a trusted CA", env: simEnv(map[string]string{"PVE_TLS_FINGERPRINT": ""}),
			summary: "Proxmox VE's Certificate Is Not Trusted", details: []string{sim.Fingerprint(), "tls_fingerprint", "ca_cert"},
		},
		{
			name: "nothing listening", env: map[string]string{"PVE_ENDPOINT": "https://" + closedPort(t), "PVE_API_TOKEN": testToken, "PVE_INSECURE": "true"},
			summary: "Cannot Reach Proxmox VE", details: []string{"refused", "endpoint"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diags := checkConnection(context.Background(), configuredClient(t, tc.env))
			got := diagSummaries(diags)
			if strings.Contains(got, "not-the-password") || strings.Contains(got, "00000000-0000-0000-0000-000000000000") {
				t.Fatalf("diagnostics leak a secret: %s", got)
			}
			if tc.summary == "" {
				if len(diags) != 0 {
					t.Fatalf("unexpected diagnostics:\n%s", got)
				}
				return
			}
			if !diags.HasError() || diags[0].Summary() != tc.summary {
				t.Fatalf("want the error %q, got:\n%s", tc.summary, got)
			}
			for _, want := range tc.details {
				if !strings.Contains(diags[0].Detail(), want) {
					t.Errorf("detail does not say %q:\n%s", want, diags[0].Detail())
				}
			}
		})
	}
}

func TestConfigureCheckIsBoundedByTheRequestTimeouts(t *testing.T) {
	// A TLS server that accepts requests and never answers them.
	release := make(chan struct{})
	hung := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	hung.Config.ErrorLog = log.New(io.Discard, "", 0)
	hung.StartTLS()
	defer hung.Close()
	defer close(release)
	sum := sha256.Sum256(hung.Certificate().Raw)
	pin := strings.ToUpper(hex.EncodeToString(sum[:]))

	// A TCP listener that never completes TLS.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{
			name: "no response headers",
			env:  map[string]string{"PVE_ENDPOINT": hung.URL, "PVE_API_TOKEN": testToken, "PVE_TLS_FINGERPRINT": pin, "PVE_RESPONSE_TIMEOUT": "300ms"},
			want: "accepted the connection but sent no response headers within 300ms (response_timeout)",
		},
		{
			name: "TLS never completes",
			env:  map[string]string{"PVE_ENDPOINT": "https://" + silent.Addr().String(), "PVE_API_TOKEN": testToken, "PVE_INSECURE": "true", "PVE_CONNECT_TIMEOUT": "300ms"},
			want: "TLS handshake with " + silent.Addr().String() + " did not complete within 300ms (connect_timeout)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The backstop is far longer than the bound: ending with the
			// bound's own message shows the bound ended the check.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			diags := checkConnection(ctx, configuredClient(t, tc.env))
			if ctx.Err() != nil {
				t.Fatalf("the backstop deadline ended the check: %s", diagSummaries(diags))
			}
			if !diags.HasError() || diags[0].Summary() != "Cannot Reach Proxmox VE" || !strings.Contains(diags[0].Detail(), tc.want) {
				t.Fatalf("want \"Cannot Reach Proxmox VE\" saying %q, got:\n%s", tc.want, diagSummaries(diags))
			}
		})
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestAccConfigureReportsConnectionProblemsAtPlan runs the check through
// Terraform: rejected credentials and an untrusted certificate stop the plan
// with their own titles, before any resource is read or created.
func TestAccConfigureReportsConnectionProblemsAtPlan(t *testing.T) {
	sim := newSim(t)
	bucket := `
resource "pve_package_bucket" "tools" {
  name = "tools"
  package {
    manager = "apt"
    spec    = "htop"
  }
}
`
	wrongToken := strings.SplitN(sim.APIToken(), "=", 2)[0] + "=00000000-0000-0000-0000-000000000000"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "pve" {
  endpoint        = %q
  api_token       = %q
  tls_fingerprint = %q
}
`, sim.Endpoint(), wrongToken, sim.Fingerprint()) + bucket,
				ExpectError: regexp.MustCompile(`Proxmox VE Rejected the Credentials`),
			},
			{
				Config: fmt.Sprintf(`
provider "pve" {
  endpoint  = %q
  api_token = %q
}
`, sim.Endpoint(), sim.APIToken()) + bucket,
				ExpectError: regexp.MustCompile(`Proxmox VE's Certificate Is Not Trusted`),
			},
			{Config: providerBlock(sim) + bucket},
		},
	})
}

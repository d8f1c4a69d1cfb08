package provider

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
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

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

func envMap(m map[string]string) envLookup {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// emptyModel is a provider block with nothing set.
func emptyModel() providerModel {
	return providerModel{
		SSH:             types.ObjectNull(sshBlockSchema().Type().(types.ObjectType).AttrTypes),
		DefaultTimeouts: types.ObjectNull(map[string]attr.Type{}),
	}
}

var sshNodeType = sshBlockSchema().Type().(types.ObjectType).AttrTypes["node"].(types.ListType).ElemType

// sshNodes builds the ssh block's node list.
func sshNodes(nodes ...sshNodeModel) types.List {
	l, d := types.ListValueFrom(context.Background(), sshNodeType, nodes)
	if d.HasError() {
		panic(d)
	}
	return l
}

// sshBlock turns a model into the ssh block's object (null for nil).
func sshBlock(t *testing.T, m *sshModel) types.Object {
	t.Helper()
	typ := sshBlockSchema().Type().(types.ObjectType)
	if m == nil {
		return types.ObjectNull(typ.AttrTypes)
	}
	if m.Nodes.ElementType(context.Background()) == nil {
		m.Nodes = types.ListNull(sshNodeType)
	}
	obj, d := types.ObjectValueFrom(context.Background(), typ.AttrTypes, m)
	if d.HasError() {
		t.Fatal(d)
	}
	return obj
}

func diagSummaries(d diag.Diagnostics) string {
	var parts []string
	for _, x := range d {
		parts = append(parts, x.Severity().String()+": "+x.Summary()+": "+x.Detail())
	}
	return strings.Join(parts, "\n")
}

const testToken = "root@pam!tf=11111111-2222-3333-4444-555555555555"

func TestProviderConfigResolution(t *testing.T) {
	tests := []struct {
		name      string
		model     func(m *providerModel)
		env       map[string]string
		wantErr   string // substring of an error summary+detail; "" = no error
		wantAPI   bool
		wantToken bool
		identity  string
	}{
		{name: "nothing configured leaves the API unset", wantAPI: false},
		{
			name: "token from config",
			model: func(m *providerModel) {
				m.Endpoint = types.StringValue("https://pve:8006")
				m.APIToken = types.StringValue(testToken)
			},
			wantAPI: true, wantToken: true, identity: "root@pam!tf",
		},
		{
			name:    "everything from PVE_ variables",
			env:     map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PVE_USERNAME": "root@pam", "PVE_PASSWORD": "pw-secret"},
			wantAPI: true, identity: "root@pam",
		},
		{
			name:    "bpg PROXMOX_VE_ names are fallbacks",
			env:     map[string]string{"PROXMOX_VE_ENDPOINT": "https://pve:8006", "PROXMOX_VE_API_TOKEN": testToken},
			wantAPI: true, wantToken: true, identity: "root@pam!tf",
		},
		{
			name: "PVE_ wins over PROXMOX_VE_",
			env: map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PROXMOX_VE_ENDPOINT": "http://other",
				"PVE_API_TOKEN": testToken},
			wantAPI: true, wantToken: true,
		},
		{
			name:    "explicit credentials win over environment credentials",
			model:   func(m *providerModel) { m.APIToken = types.StringValue(testToken) },
			env:     map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PVE_USERNAME": "root@pam", "PVE_PASSWORD": "pw"},
			wantAPI: true, wantToken: true,
		},
		{
			name:    "explicit endpoint wins over the environment",
			model:   func(m *providerModel) { m.Endpoint = types.StringValue("https://pve:8006") },
			env:     map[string]string{"PVE_ENDPOINT": "http://insecure:8006", "PVE_API_TOKEN": testToken},
			wantAPI: true, wantToken: true,
		},
		{
			name:    "credentials without endpoint",
			env:     map[string]string{"PVE_API_TOKEN": testToken},
			wantErr: "Missing Proxmox VE API Endpoint",
		},
		{
			name: "http endpoint",
			model: func(m *providerModel) {
				m.Endpoint = types.StringValue("http://pve:8006")
				m.APIToken = types.StringValue(testToken)
			},
			wantErr: "Insecure Proxmox VE API Endpoint",
		},
		{
			name: "endpoint without host",
			model: func(m *providerModel) {
				m.Endpoint = types.StringValue("pve")
				m.APIToken = types.StringValue(testToken)
			},
			wantErr: "Invalid Proxmox VE API Endpoint",
		},
		{
			name:    "no credentials",
			model:   func(m *providerModel) { m.Endpoint = types.StringValue("https://pve:8006") },
			wantErr: "Missing Proxmox VE Credentials",
		},
		{
			name: "two modes",
			model: func(m *providerModel) {
				m.Endpoint = types.StringValue("https://pve:8006")
				m.APIToken = types.StringValue(testToken)
				m.Username = types.StringValue("root@pam")
				m.Password = types.StringValue("pw")
			},
			wantErr: "Conflicting Proxmox VE Credentials",
		},
		{
			name:    "two modes from the environment",
			env:     map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken, "PVE_AUTH_TICKET": "PVE:root@pam:ABC::sig", "PVE_CSRF_PREVENTION_TOKEN": "x:y"},
			wantErr: "environment variable PVE_API_TOKEN",
		},
		{
			name: "username without password",
			model: func(m *providerModel) {
				m.Endpoint = types.StringValue("https://pve:8006")
				m.Username = types.StringValue("root@pam")
			},
			wantErr: "Incomplete Proxmox VE Credentials",
		},
		{
			name: "ticket without CSRF token",
			model: func(m *providerModel) {
				m.Endpoint = types.StringValue("https://pve:8006")
				m.AuthTicket = types.StringValue("PVE:root@pam:65000000::sig")
			},
			wantErr: "Incomplete Proxmox VE Credentials",
		},
		{
			name: "insecure with fingerprint",
			model: func(m *providerModel) {
				m.Endpoint = types.StringValue("https://pve:8006")
				m.APIToken = types.StringValue(testToken)
				m.Insecure = types.BoolValue(true)
				m.TLSFingerprint = types.StringValue("AB:CD")
			},
			wantErr: "Conflicting TLS Settings",
		},
		{
			name:    "insecure from the environment with a CA",
			env:     map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken, "PVE_INSECURE": "true", "PVE_CA_CERT": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"},
			wantErr: "Conflicting TLS Settings",
		},
		{
			name:    "bad boolean in the environment",
			env:     map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken, "PVE_INSECURE": "maybe"},
			wantErr: "PVE_INSECURE=\"maybe\" is not a boolean",
		},
		{
			name:    "unknown endpoint during plan",
			model:   func(m *providerModel) { m.Endpoint = types.StringUnknown() },
			wantErr: "endpoint is not known during plan",
		},
		{
			name: "ssh block unknown during plan (a dynamic block over an unknown value)",
			model: func(m *providerModel) {
				m.SSH = types.ObjectUnknown(sshBlockSchema().Type().(types.ObjectType).AttrTypes)
			},
			wantErr: "setting ssh is not known during plan",
		},
		{
			name:    "CA path that does not exist",
			env:     map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken, "PVE_CA_CERT": "/nonexistent/ca.pem"},
			wantErr: "Unreadable CA Certificate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := emptyModel()
			if tc.model != nil {
				tc.model(&m)
			}
			data, diags := newProviderData(context.Background(), m, "test", envMap(tc.env))
			got := diagSummaries(diags)
			if tc.wantErr != "" {
				if !diags.HasError() || !strings.Contains(got, tc.wantErr) {
					t.Fatalf("want an error containing %q, got:\n%s", tc.wantErr, got)
				}
				for _, secret := range []string{"11111111-2222-3333-4444-555555555555", "pw-secret"} {
					if strings.Contains(got, secret) {
						t.Fatalf("diagnostics leak a secret: %s", got)
					}
				}
				return
			}
			if diags.HasError() {
				t.Fatalf("unexpected diagnostics:\n%s", got)
			}
			if (data.API != nil) != tc.wantAPI {
				t.Fatalf("API client present = %v, want %v", data.API != nil, tc.wantAPI)
			}
			if data.API == nil {
				return
			}
			if data.API.UsesAPIToken() != tc.wantToken {
				t.Errorf("UsesAPIToken = %v, want %v", data.API.UsesAPIToken(), tc.wantToken)
			}
			if tc.identity != "" && data.API.Identity() != tc.identity {
				t.Errorf("Identity = %q, want %q", data.API.Identity(), tc.identity)
			}
		})
	}
}

func TestProviderSSHConfig(t *testing.T) {
	hostKey := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKsFO9jXoaHRd4C4iqAo06DWVZbGr8FCCbVJ7mDjZvV9"
	tests := []struct {
		name     string
		block    *sshModel
		env      map[string]string
		wantErr  string
		wantWarn string
		check    func(t *testing.T, d *providerData)
	}{
		{name: "no ssh at all", check: func(t *testing.T, d *providerData) {
			if d.SSH != nil {
				t.Fatalf("SSH = %+v, want nil", d.SSH)
			}
		}},
		{
			name:  "block with password and pinned key",
			block: &sshModel{Password: types.StringValue("node-secret"), HostKey: types.StringValue(hostKey), Nodes: sshNodes(sshNodeModel{Name: types.StringValue("pve"), Address: types.StringValue("127.0.0.1"), Port: types.Int64Value(2222)})},
			check: func(t *testing.T, d *providerData) {
				if d.SSH.Username != "root" || d.SSH.Port != 22 || len(d.SSH.HostKeys) != 1 || d.SSH.Nodes["pve"].Port != 2222 {
					t.Fatalf("unexpected SSH config %+v", d.SSH)
				}
				if d.SSH.KnownHostsFile != "" {
					t.Fatalf("known_hosts default must not apply when a key is pinned, got %q", d.SSH.KnownHostsFile)
				}
			},
		},
		{
			name: "environment only",
			env:  map[string]string{"PVE_SSH_PASSWORD": "node-secret", "PVE_SSH_PORT": "2200", "PVE_SSH_USERNAME": "admin"},
			check: func(t *testing.T, d *providerData) {
				if d.SSH == nil || d.SSH.Username != "admin" || d.SSH.Port != 2200 || !strings.HasSuffix(d.SSH.KnownHostsFile, "/.ssh/known_hosts") {
					t.Fatalf("unexpected SSH config %+v", d.SSH)
				}
			},
		},
		{name: "no credentials", block: &sshModel{}, wantErr: "Missing SSH Credentials"},
		{name: "bad private key", block: &sshModel{PrivateKey: types.StringValue("not a key")}, wantErr: "Invalid SSH Private Key"},
		{name: "bad host key", block: &sshModel{Agent: types.BoolValue(true), HostKey: types.StringValue("nonsense")}, wantErr: "Invalid SSH Host Key"},
		{
			name:     "insecure host key is warned about",
			block:    &sshModel{Agent: types.BoolValue(true), InsecureIgnoreHostKey: types.BoolValue(true)},
			wantWarn: "SSH Host Key Verification Disabled",
		},
		{
			name:    "duplicate node",
			block:   &sshModel{Agent: types.BoolValue(true), Nodes: sshNodes(sshNodeModel{Name: types.StringValue("pve"), Address: types.StringValue("a")}, sshNodeModel{Name: types.StringValue("pve"), Address: types.StringValue("b")})},
			wantErr: "Duplicate SSH Node",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := emptyModel()
			m.SSH = sshBlock(t, tc.block)
			data, diags := newProviderData(context.Background(), m, "test", envMap(tc.env))
			got := diagSummaries(diags)
			if strings.Contains(got, "node-secret") || strings.Contains(got, "not a key") {
				t.Fatalf("diagnostics leak a secret: %s", got)
			}
			if tc.wantErr != "" {
				if !diags.HasError() || !strings.Contains(got, tc.wantErr) {
					t.Fatalf("want error %q, got:\n%s", tc.wantErr, got)
				}
				return
			}
			if diags.HasError() {
				t.Fatalf("unexpected diagnostics:\n%s", got)
			}
			if tc.wantWarn != "" && !strings.Contains(got, tc.wantWarn) {
				t.Fatalf("want warning %q, got:\n%s", tc.wantWarn, got)
			}
			if tc.check != nil {
				tc.check(t, data)
			}
		})
	}
}

func TestProviderEnvironmentFallbacksMatchBPG(t *testing.T) {
	ca := "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"
	base := map[string]string{"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	// bpg/proxmox has no variable for the CA or the pin, so no
	// PROXMOX_VE_* name is read for them.
	cfg, diags := resolveAPIConfig(emptyModel(), "test", envMap(with(map[string]string{
		"PROXMOX_VE_CA_CERT": ca, "PROXMOX_VE_TLS_FINGERPRINT": "AB:CD",
	})))
	if diags.HasError() || cfg == nil {
		t.Fatalf("unexpected diagnostics:\n%s", diagSummaries(diags))
	}
	if cfg.CACertPEM != "" || cfg.TLSFingerprint != "" {
		t.Errorf("invented PROXMOX_VE_ names were read: ca %q, fingerprint %q", cfg.CACertPEM, cfg.TLSFingerprint)
	}

	// Its names that do exist are read, after the PVE_* ones.
	cfg, diags = resolveAPIConfig(emptyModel(), "test", envMap(with(map[string]string{
		"PROXMOX_VE_MIN_TLS": "1.3", "PVE_CONNECT_TIMEOUT": "5s", "PVE_RESPONSE_TIMEOUT": "2m",
	})))
	if diags.HasError() {
		t.Fatalf("unexpected diagnostics:\n%s", diagSummaries(diags))
	}
	if cfg.MinTLSVersion != tls.VersionTLS13 || cfg.ConnectTimeout != 5*time.Second || cfg.ResponseTimeout != 2*time.Minute {
		t.Errorf("min TLS %x, connect %s, response %s", cfg.MinTLSVersion, cfg.ConnectTimeout, cfg.ResponseTimeout)
	}

	sshCfg, diags := resolveSSHConfig(nil, nil, envMap(map[string]string{
		"PROXMOX_VE_SSH_AGENT": "true", "PROXMOX_VE_SSH_AUTH_SOCK": "/run/agent.sock", "PROXMOX_VE_SSH_USERNAME": "admin",
	}))
	if diags.HasError() || sshCfg == nil {
		t.Fatalf("unexpected diagnostics:\n%s", diagSummaries(diags))
	}
	if !sshCfg.UseAgent || sshCfg.AgentSocket != "/run/agent.sock" || sshCfg.Username != "admin" {
		t.Errorf("bpg's SSH variables were not read: %+v", sshCfg)
	}
}

func TestProviderRequestTimeouts(t *testing.T) {
	m := emptyModel()
	m.Endpoint = types.StringValue("https://pve:8006")
	m.APIToken = types.StringValue(testToken)
	m.ConnectTimeout = types.StringValue("3s")
	m.ResponseTimeout = types.StringValue("90s")
	cfg, diags := resolveAPIConfig(m, "test", envMap(map[string]string{"PVE_CONNECT_TIMEOUT": "9s"}))
	if diags.HasError() {
		t.Fatalf("unexpected diagnostics:\n%s", diagSummaries(diags))
	}
	if cfg.ConnectTimeout != 3*time.Second || cfg.ResponseTimeout != 90*time.Second {
		t.Errorf("the configuration must win: connect %s, response %s", cfg.ConnectTimeout, cfg.ResponseTimeout)
	}

	_, diags = resolveAPIConfig(emptyModel(), "test", envMap(map[string]string{
		"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken, "PVE_RESPONSE_TIMEOUT": "forever",
	}))
	if got := diagSummaries(diags); !diags.HasError() || !strings.Contains(got, "Invalid Duration") ||
		!strings.Contains(got, "environment variable PVE_RESPONSE_TIMEOUT") {
		t.Errorf("a bad PVE_RESPONSE_TIMEOUT must be an error naming the variable, got:\n%s", got)
	}

	m = emptyModel()
	m.ResponseTimeout = types.StringUnknown()
	if _, diags := newProviderData(context.Background(), m, "test", envMap(nil)); !strings.Contains(diagSummaries(diags), "response_timeout is not known") {
		t.Errorf("an unknown response_timeout must be reported, got:\n%s", diagSummaries(diags))
	}
}

func TestInsecureIsWarnedAbout(t *testing.T) {
	m := emptyModel()
	m.Endpoint = types.StringValue("https://pve:8006")
	m.APIToken = types.StringValue(testToken)
	m.Insecure = types.BoolValue(true)
	_, diags := newProviderData(context.Background(), m, "test", envMap(nil))
	if diags.HasError() || diags.WarningsCount() != 1 || !strings.Contains(diagSummaries(diags), "TLS Certificate Verification Disabled") {
		t.Fatalf("want one warning about insecure, got:\n%s", diagSummaries(diags))
	}
	_, diags = newProviderData(context.Background(), emptyModel(), "test", envMap(map[string]string{
		"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken, "PROXMOX_VE_INSECURE": "1",
	}))
	if got := diagSummaries(diags); diags.WarningsCount() != 1 || !strings.Contains(got, "PVE_INSECURE (or PROXMOX_VE_INSECURE) is true") {
		t.Fatalf("want one warning naming the variable, got:\n%s", got)
	}
}

// configuredClient resolves a provider block given as environment variables
// into the API client Configure would check.
func configuredClient(t *testing.T, env map[string]string) *pveapi.Client {
	t.Helper()
	data, diags := newProviderData(context.Background(), emptyModel(), "test", envMap(env))
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

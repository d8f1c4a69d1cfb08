package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

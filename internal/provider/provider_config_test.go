package provider

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func envMap(m map[string]string) envLookup {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// providerSchema is the provider block's schema.
func providerSchema() schema.Schema {
	var resp provider.SchemaResponse
	(&pveProvider{}).Schema(context.Background(), provider.SchemaRequest{}, &resp)
	return resp.Schema
}

// emptyModel is a provider block with nothing set.
func emptyModel() providerModel {
	return providerModel{
		SSH:             types.ObjectNull(sshBlockSchema().Type().(types.ObjectType).AttrTypes),
		DefaultTimeouts: types.ObjectNull(providerSchema().Attributes["default_timeouts"].GetType().(types.ObjectType).AttrTypes),
	}
}

// configureFromModel configures the provider as Configure does, from a
// provider block given as a model: the model becomes the raw configuration
// Terraform would send, unknown values included.
func configureFromModel(t *testing.T, m providerModel, env map[string]string) (*providerData, diag.Diagnostics) {
	t.Helper()
	ctx := context.Background()
	s := providerSchema()
	block := tfsdk.State{Schema: s, Raw: tftypes.NewValue(s.Type().TerraformType(ctx), nil)}
	if d := block.Set(ctx, &m); d.HasError() {
		t.Fatalf("the test's provider block: %v", d)
	}
	return configureProvider(ctx, tfsdk.Config{Schema: s, Raw: block.Raw}, "test", envMap(env))
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
			data, diags := configureFromModel(t, m, tc.env)
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
	if _, diags := configureFromModel(t, m, nil); !strings.Contains(diagSummaries(diags), "response_timeout is not known") {
		t.Errorf("an unknown response_timeout must be reported, got:\n%s", diagSummaries(diags))
	}
}

func TestInsecureIsWarnedAbout(t *testing.T) {
	m := emptyModel()
	m.Endpoint = types.StringValue("https://pve:8006")
	m.APIToken = types.StringValue(testToken)
	m.Insecure = types.BoolValue(true)
	_, diags := configureFromModel(t, m, nil)
	if diags.HasError() || diags.WarningsCount() != 1 || !strings.Contains(diagSummaries(diags), "TLS Certificate Verification Disabled") {
		t.Fatalf("want one warning about insecure, got:\n%s", diagSummaries(diags))
	}
	_, diags = configureFromModel(t, emptyModel(), map[string]string{
		"PVE_ENDPOINT": "https://pve:8006", "PVE_API_TOKEN": testToken, "PROXMOX_VE_INSECURE": "1",
	})
	if got := diagSummaries(diags); diags.WarningsCount() != 1 || !strings.Contains(got, "PVE_INSECURE (or PROXMOX_VE_INSECURE) is true") {
		t.Fatalf("want one warning naming the variable, got:\n%s", got)
	}
}

// Every unknown value in the provider block is reported at its path, nested
// ones included, each once and in a stable order; a block that is unknown
// as a whole is reported by its name only.
func TestUnknownProviderSettingsAreReportedByPath(t *testing.T) {
	m := emptyModel()
	m.Endpoint = types.StringUnknown()
	m.ConnectTimeout = types.StringUnknown()
	timeouts := providerSchema().Attributes["default_timeouts"].GetType().(types.ObjectType).AttrTypes
	m.DefaultTimeouts = types.ObjectValueMust(timeouts, map[string]attr.Value{
		"create": types.StringUnknown(), "read": types.StringValue("5m"), "update": types.StringNull(), "delete": types.StringNull(),
	})
	m.SSH = sshBlock(t, &sshModel{Agent: types.BoolValue(true), Nodes: sshNodes(
		sshNodeModel{Name: types.StringValue("pve"), Address: types.StringValue("10.0.0.1"), Port: types.Int64Null()},
		sshNodeModel{Name: types.StringValue("pve2"), Address: types.StringUnknown(), Port: types.Int64Unknown()},
	)})
	_, diags := configureFromModel(t, m, nil)
	var got []string
	for _, d := range diags {
		withPath, ok := d.(diag.DiagnosticWithPath)
		if d.Summary() != "Unknown Provider Setting" || !ok || !strings.Contains(d.Detail(), "setting "+withPath.Path().String()+" is not known during plan") {
			t.Errorf("unexpected diagnostic: %s: %s", d.Summary(), d.Detail())
			continue
		}
		got = append(got, withPath.Path().String())
	}
	want := []string{"connect_timeout", "default_timeouts.create", "endpoint", "ssh.node[1].address", "ssh.node[1].port"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reported %v, want %v", got, want)
	}

	m = emptyModel()
	m.SSH = types.ObjectUnknown(sshBlockSchema().Type().(types.ObjectType).AttrTypes)
	if _, diags := configureFromModel(t, m, nil); diags.ErrorsCount() != 1 {
		t.Errorf("an unknown ssh block must be one error, got:\n%s", diagSummaries(diags))
	}
}

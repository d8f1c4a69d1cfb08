package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

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
			data, diags := configureFromModel(t, m, tc.env)
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

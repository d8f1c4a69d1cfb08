package sshexec

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

func TestNewValidatesConfig(t *testing.T) {
	_, keyPEM := sshnodetest.NewKey(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	encrypted, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pinned := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMG1m6ZKhZcSbIwLPJ0O2Yw+3ZcVOqkYCcSZxMCJ1o2R"
	badKnownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(badKnownHosts, []byte("host1 ssh-ed25519 AAAA\nnot a line\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		cfg     Config
		wantErr string // empty: New succeeds
	}{
		{"password and pinned key", Config{Password: "pw", HostKeys: []string{pinned}}, ""},
		{"OpenSSH private key", Config{PrivateKey: keyPEM, HostKeys: []string{pinned}}, ""},
		{"PKCS#8 PEM private key", Config{PrivateKey: pkcs8, HostKeys: []string{pinned}}, ""},
		{"agent with socket", Config{UseAgent: true, AgentSocket: "/nonexistent/agent.sock", HostKeys: []string{pinned}}, ""},
		{"insecure opt-out", Config{Password: "pw", InsecureIgnoreHostKey: true}, ""},
		{"no login method", Config{HostKeys: []string{pinned}}, "no way to log in"},
		{"garbage private key", Config{PrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n-----END OPENSSH PRIVATE KEY-----\n", HostKeys: []string{pinned}}, "unencrypted PEM or OpenSSH"},
		{"encrypted private key", Config{PrivateKey: string(pem.EncodeToMemory(encrypted)), HostKeys: []string{pinned}}, "is encrypted"},
		{"no host key verification", Config{Password: "pw"}, "no way to verify"},
		{"unparsable pinned key", Config{Password: "pw", HostKeys: []string{"ssh-ed25519 !!!"}}, "host key #1"},
		{"missing known_hosts", Config{Password: "pw", KnownHostsFile: filepath.Join(t.TempDir(), "absent")}, "known_hosts file"},
		{"malformed known_hosts", Config{Password: "pw", KnownHostsFile: badKnownHosts}, badKnownHosts},
		{"port out of range", Config{Password: "pw", HostKeys: []string{pinned}, Port: 70000}, "out of range"},
		{"node port out of range", Config{Password: "pw", HostKeys: []string{pinned}, Nodes: map[string]NodeAddress{"pve": {Port: -1}}}, `node "pve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.UseAgent && tt.cfg.AgentSocket == "" {
				t.Setenv("SSH_AUTH_SOCK", "")
			}
			c, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				_ = c.Close()
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "passphrase") {
				t.Errorf("error %q shows key material", err)
			}
		})
	}
}

func TestNewAgentNeedsASocket(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	_, err := New(Config{UseAgent: true, InsecureIgnoreHostKey: true})
	if err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Errorf("New = %v, want an error naming SSH_AUTH_SOCK", err)
	}
	t.Setenv("SSH_AUTH_SOCK", "/run/agent.sock")
	c, err := New(Config{UseAgent: true, InsecureIgnoreHostKey: true})
	if err != nil {
		t.Fatalf("New with SSH_AUTH_SOCK: %v", err)
	}
	if c.auth.agentSocket != "/run/agent.sock" {
		t.Errorf("agent socket %q, want the one from SSH_AUTH_SOCK", c.auth.agentSocket)
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{Password: "pw", InsecureIgnoreHostKey: true, Nodes: map[string]NodeAddress{
		"a": {Address: "10.0.0.1"}, "b": {Address: "10.0.0.2", Port: 2222}, "c": {Port: 2200},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Username != "root" || c.cfg.Port != 22 {
		t.Errorf("defaults: user %q port %d, want root 22", c.cfg.Username, c.cfg.Port)
	}
	for node, want := range map[string]string{"a": "10.0.0.1:22", "b": "10.0.0.2:2222", "c": "c:2200", "pve2": "pve2:22", "fe80::1": "[fe80::1]:22"} {
		if got := c.address(node); got != want {
			t.Errorf("address(%q) = %q, want %q", node, got, want)
		}
	}
}

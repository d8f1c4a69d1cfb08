package sshexec

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

// otherHostKey is a key the node does not have.
func otherHostKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	s, _ := sshnodetest.NewKey(t)
	return s.PublicKey()
}

func writeKnownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostKeyError runs a command and returns the *HostKeyError it must fail with.
func hostKeyError(t *testing.T, n *testNode, c *Client) *HostKeyError {
	t.Helper()
	before := len(n.Host.Calls())
	err := whoami(t, c)
	var hk *HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("Run = %v, want a *HostKeyError", err)
	}
	if len(n.Host.Calls()) != before {
		t.Error("a command ran on a node whose host key was refused")
	}
	msg := err.Error()
	fingerprint := ssh.FingerprintSHA256(n.HostKey.PublicKey())
	for _, want := range []string{`node "pve"`, n.Addr, "ssh-ed25519", fingerprint} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if hk.Node != testNodeName || hk.Fingerprint != fingerprint || hk.KeyType != ssh.KeyAlgoED25519 {
		t.Errorf("HostKeyError fields %+v", hk)
	}
	return hk
}

func TestPinnedHostKey(t *testing.T) {
	n := startNode(t)
	pinned := sshnode.AuthorizedKey(n.HostKey.PublicKey())
	other := sshnode.AuthorizedKey(otherHostKey(t))

	t.Run("accepted", func(t *testing.T) {
		if err := whoami(t, newClient(t, n.config())); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("any of several accepted", func(t *testing.T) {
		c := newClient(t, n.config(func(cfg *Config) { cfg.HostKeys = []string{other, pinned + " comment"} }))
		if err := whoami(t, c); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong key refused with a helpful message", func(t *testing.T) {
		c := newClient(t, n.config(func(cfg *Config) { cfg.HostKeys = []string{other} }))
		hk := hostKeyError(t, n, c)
		for _, want := range []string{"pinned", "host_key"} {
			if !strings.Contains(hk.Error(), want) {
				t.Errorf("error %q lacks %q", hk, want)
			}
		}
		if strings.Contains(hk.Error(), "handshake failed") {
			t.Errorf("error %q is the bare handshake failure", hk)
		}
	})
}

func TestKnownHosts(t *testing.T) {
	n := startNode(t)
	entry := knownhosts.Normalize(n.Addr) // "[127.0.0.1]:port"
	if !strings.HasPrefix(entry, "[127.0.0.1]:") {
		t.Fatalf("unexpected known_hosts form %q", entry)
	}
	realLine := knownhosts.Line([]string{entry}, n.HostKey.PublicKey())
	useFile := func(path string) func(*Config) {
		return func(cfg *Config) { cfg.HostKeys, cfg.KnownHostsFile = nil, path }
	}

	t.Run("accepted", func(t *testing.T) {
		path := writeKnownHosts(t, "# comment", knownhosts.Line([]string{"other.example"}, otherHostKey(t)), realLine)
		if err := whoami(t, newClient(t, n.config(useFile(path)))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("hashed entry accepted", func(t *testing.T) {
		path := writeKnownHosts(t, knownhosts.Line([]string{knownhosts.HashHostname(entry)}, n.HostKey.PublicKey()))
		if err := whoami(t, newClient(t, n.config(useFile(path)))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("entry without port does not match a non-default port", func(t *testing.T) {
		path := writeKnownHosts(t, knownhosts.Line([]string{"127.0.0.1"}, n.HostKey.PublicKey()))
		hk := hostKeyError(t, n, newClient(t, n.config(useFile(path))))
		if !strings.Contains(hk.Error(), "has no entry for "+entry) {
			t.Errorf("error %q does not say the host is unknown", hk)
		}
	})
	t.Run("different key refused", func(t *testing.T) {
		other := otherHostKey(t)
		path := writeKnownHosts(t, "# first line", knownhosts.Line([]string{entry}, other))
		hk := hostKeyError(t, n, newClient(t, n.config(useFile(path))))
		for _, want := range []string{
			"lists a different key", ssh.FingerprintSHA256(other), path + ":2",
			"update the known_hosts file " + path, "ssh-keygen -R '" + entry + "'",
			fmt.Sprintf("ssh-keyscan -p %d 127.0.0.1", n.Port),
		} {
			if !strings.Contains(hk.Error(), want) {
				t.Errorf("error %q lacks %q", hk, want)
			}
		}
	})
	t.Run("revoked key refused", func(t *testing.T) {
		path := writeKnownHosts(t, "@revoked * "+sshnode.AuthorizedKey(n.HostKey.PublicKey()), realLine)
		hk := hostKeyError(t, n, newClient(t, n.config(useFile(path))))
		if !strings.Contains(hk.Error(), "@revoked") {
			t.Errorf("error %q does not mention the revocation", hk)
		}
	})
	t.Run("either known_hosts or a pinned key is enough", func(t *testing.T) {
		wrongFile := writeKnownHosts(t, knownhosts.Line([]string{entry}, otherHostKey(t)))
		c := newClient(t, n.config(func(cfg *Config) { cfg.KnownHostsFile = wrongFile })) // pinned key is right
		if err := whoami(t, c); err != nil {
			t.Fatalf("right pin, wrong known_hosts: %v", err)
		}
		rightFile := writeKnownHosts(t, realLine)
		c = newClient(t, n.config(func(cfg *Config) {
			cfg.KnownHostsFile, cfg.HostKeys = rightFile, []string{sshnode.AuthorizedKey(otherHostKey(t))}
		}))
		if err := whoami(t, c); err != nil {
			t.Fatalf("wrong pin, right known_hosts: %v", err)
		}
	})
	t.Run("both wrong: both reasons and both fixes", func(t *testing.T) {
		wrongFile := writeKnownHosts(t)
		c := newClient(t, n.config(func(cfg *Config) {
			cfg.KnownHostsFile, cfg.HostKeys = wrongFile, []string{sshnode.AuthorizedKey(otherHostKey(t))}
		}))
		hk := hostKeyError(t, n, c)
		for _, want := range []string{"has no entry", "pinned", "known_hosts file " + wrongFile, "host_key"} {
			if !strings.Contains(hk.Error(), want) {
				t.Errorf("error %q lacks %q", hk, want)
			}
		}
	})
}

// TestHostKeyAlgorithms: a node with several host keys is asked for one
// that known_hosts or the pins list, as OpenSSH does.
func TestHostKeyAlgorithms(t *testing.T) {
	rsaKey := mustRSAPublicKey(t)
	ed := otherHostKey(t)
	path := writeKnownHosts(t,
		knownhosts.Line([]string{"[10.0.0.1]:2222"}, rsaKey),
		knownhosts.Line([]string{"10.0.0.2"}, ed),
	)
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 22}
	v, err := newHostKeyVerifier(Config{KnownHostsFile: path})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want []string
	}{
		{"10.0.0.1:2222", []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}},
		{"10.0.0.2:22", []string{ssh.KeyAlgoED25519}},
		{"10.0.0.3:22", nil},
	}
	for _, tt := range tests {
		if got := v.algorithms(tt.addr, remote); !slices.Equal(got, tt.want) {
			t.Errorf("algorithms(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}

	v, err = newHostKeyVerifier(Config{KnownHostsFile: path, HostKeys: []string{sshnode.AuthorizedKey(ed)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.algorithms("10.0.0.1:2222", remote), []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA, ssh.KeyAlgoED25519}; !slices.Equal(got, want) {
		t.Errorf("with a pin: %q, want %q", got, want)
	}
	if got, want := v.algorithms("10.0.0.3:22", remote), []string{ssh.KeyAlgoED25519}; !slices.Equal(got, want) {
		t.Errorf("unlisted host with a pin: %q, want %q", got, want)
	}

	v, err = newHostKeyVerifier(Config{KnownHostsFile: path, InsecureIgnoreHostKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.algorithms("10.0.0.1:2222", remote); got != nil {
		t.Errorf("insecure: %q, want the default (nil)", got)
	}
}

func mustRSAPublicKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

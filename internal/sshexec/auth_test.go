package sshexec

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/agent"
)

// whoami runs a command that proves the login worked end to end.
func whoami(t *testing.T, c *Client) error {
	t.Helper()
	res, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, "echo", "logged-in")})
	if err == nil && string(res.Stdout) != "logged-in\n" {
		t.Errorf("stdout %q, want logged-in", res.Stdout)
	}
	return err
}

func TestPasswordAuth(t *testing.T) {
	n := startNode(t)
	if err := whoami(t, newClient(t, n.config())); err != nil {
		t.Fatal(err)
	}
}

func TestPrivateKeyAuth(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config(func(cfg *Config) { cfg.Password, cfg.PrivateKey = "", n.ClientKeyPEM }))
	if err := whoami(t, c); err != nil {
		t.Fatal(err)
	}
}

// serveAgent runs an ssh-agent holding the node's authorized client key.
func serveAgent(t *testing.T, n *testNode) string {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: mustRawKey(t, n.ClientKeyPEM)}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				_ = agent.ServeAgent(keyring, conn)
			}()
		}
	}()
	return sock
}

func TestAgentAuth(t *testing.T) {
	n := startNode(t)
	sock := serveAgent(t, n)
	t.Run("AgentSocket", func(t *testing.T) {
		c := newClient(t, n.config(func(cfg *Config) { cfg.Password, cfg.UseAgent, cfg.AgentSocket = "", true, sock }))
		if err := whoami(t, c); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SSH_AUTH_SOCK", func(t *testing.T) {
		t.Setenv("SSH_AUTH_SOCK", sock)
		c := newClient(t, n.config(func(cfg *Config) { cfg.Password, cfg.UseAgent = "", true }))
		if err := whoami(t, c); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unreachable agent is explained", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "gone.sock")
		c := newClient(t, n.config(func(cfg *Config) { cfg.Password, cfg.UseAgent, cfg.AgentSocket = "", true, missing }))
		err := whoami(t, c)
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("Run = %v, want a login error naming the agent socket", err)
		}
	})
}

func TestWrongPassword(t *testing.T) {
	n := startNode(t)
	const wrong = "wrong-pw-3d9e"
	c := newClient(t, n.config(func(cfg *Config) { cfg.Password = wrong }))
	err := whoami(t, c)
	if err == nil {
		t.Fatal("Run with a wrong password succeeded")
	}
	msg := err.Error()
	for _, want := range []string{`node "pve"`, `as "root"`, "credentials"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, wrong) {
		t.Errorf("error %q shows the password", msg)
	}
	var hk *HostKeyError
	if errors.As(err, &hk) {
		t.Errorf("a login failure reported as a host key problem: %v", err)
	}
	if len(n.Host.Calls()) != 0 {
		t.Error("a command ran despite the failed login")
	}
}

// TestAuthMethodsTriedInOrder: a wrong password does not stop the key.
func TestAuthMethodsTriedInOrder(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config(func(cfg *Config) { cfg.Password, cfg.PrivateKey = "wrong", n.ClientKeyPEM }))
	if err := whoami(t, c); err != nil {
		t.Fatal(err)
	}
}

func TestWrongUser(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config(func(cfg *Config) { cfg.Username = "admin" }))
	if err := whoami(t, c); err == nil || !strings.Contains(err.Error(), `as "admin"`) {
		t.Errorf("Run = %v, want a login error naming the user", err)
	}
}

package sshexec

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

const (
	testNodeName = sshnodetest.NodeName
	testVMID     = 101
)

// testNode is sshnodetest's node with one running container, 101.
type testNode struct {
	*sshnodetest.Node
}

// startNode serves node "pve" on a new loopback port until the test ends.
func startNode(t testing.TB, opts ...sshnodetest.Option) *testNode {
	t.Helper()
	ct := sshnode.Container{VMID: testVMID, Status: "running", Name: "ct101"}
	return &testNode{sshnodetest.Start(t, sshnodetest.NewHost(ct), opts...)}
}

// config logs in as root with the password and pins the node's host key.
func (n *testNode) config(mods ...func(*Config)) Config {
	cfg := Config{
		Password: sshnodetest.RootPassword,
		HostKeys: []string{sshnode.AuthorizedKey(n.HostKey.PublicKey())},
		Nodes:    map[string]NodeAddress{testNodeName: {Address: "127.0.0.1", Port: n.Port}},
	}
	for _, m := range mods {
		m(&cfg)
	}
	return cfg
}

// newClient creates a client for cfg, closed when the test ends.
func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// mustRun runs cmd on node pve and fails the test on any error.
func mustRun(t testing.TB, c *Client, cmd Command) *Result {
	t.Helper()
	res, err := c.Run(t.Context(), testNodeName, cmd)
	if err != nil {
		t.Fatalf("Run %v: %v", cmd.Argv, err)
	}
	return res
}

// logContext returns a ctx whose "ssh" subsystem writes JSON lines at
// TRACE into buf.
func logContext(t *testing.T, buf *syncBuffer) context.Context {
	t.Helper()
	ctx := tflogtest.RootLogger(t.Context(), buf)
	return tflog.NewSubsystem(ctx, LogSubsystem)
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of loggers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor receives from ch or fails the test after a generous bound, so a
// broken implementation fails instead of hanging.
func waitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// mustRawKey parses a PEM private key for the agent keyring.
func mustRawKey(t testing.TB, keyPEM string) any {
	t.Helper()
	k, err := ssh.ParseRawPrivateKey([]byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

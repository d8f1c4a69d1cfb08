package sshexec

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
)

const (
	testNodeName = "pve"
	testPassword = "root-pw-5b1c-never-logged"
	testVMID     = 101
)

// Scripted commands of the fake host; anything else runs with os/exec.
const (
	argvRecord = "record" // exits 0, only recording its argv
	argvBlock  = "block"  // waits until its context ends
	argvDrain  = "drain"  // reads stdin to the end and prints its size
)

// fakeHost is a node with one running container, 101, whose commands run
// on the test machine (or are scripted above). It records every argv.
type fakeHost struct {
	mu    sync.Mutex
	calls [][]string

	blocked   chan struct{} // receives when a block command starts
	cancelled chan struct{} // receives when a block command's ctx ends
}

func newFakeHost() *fakeHost {
	return &fakeHost{blocked: make(chan struct{}, 64), cancelled: make(chan struct{}, 64)}
}

func (h *fakeHost) Container(vmid int) (sshnode.Container, bool) {
	if vmid != testVMID {
		return sshnode.Container{}, false
	}
	return sshnode.Container{VMID: testVMID, Status: "running", Name: "ct101"}, true
}

func (h *fakeHost) Containers() []sshnode.Container {
	ct, _ := h.Container(testVMID)
	return []sshnode.Container{ct}
}

func (h *fakeHost) Exec(ctx context.Context, _ int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	h.mu.Lock()
	h.calls = append(h.calls, slices.Clone(argv))
	h.mu.Unlock()
	switch argv[0] {
	case argvRecord:
		return 0, nil
	case argvDrain:
		n, err := io.Copy(io.Discard, stdin)
		_, _ = fmt.Fprintln(stdout, n)
		return 0, err
	case argvBlock:
		h.blocked <- struct{}{}
		<-ctx.Done()
		h.cancelled <- struct{}{}
		return 0, ctx.Err()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	return 0, err
}

// Unlock answers like PVE for container 101, which holds no lock.
func (h *fakeHost) Unlock(context.Context, int) error {
	return errors.New("no lock found trying to remove any lock")
}

func (h *fakeHost) callLog() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// countingListener counts accepted connections (one per client dial) and
// can cut them all from the server side.
type countingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *countingListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// cutAll closes every accepted connection, like a node whose sshd went
// away.
func (l *countingListener) cutAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
}

// testNode is a running sshnode server on 127.0.0.1.
type testNode struct {
	srv       *sshnode.Server
	listener  *countingListener
	host      *fakeHost
	hostKey   ssh.Signer
	clientKey ssh.Signer
	keyPEM    string
	addr      string
	port      int
	served    chan error
}

func newSigner(t testing.TB) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "sshexec test")
	if err != nil {
		t.Fatal(err)
	}
	return signer, string(pem.EncodeToMemory(block))
}

// startNode serves node "pve" on a new loopback port until the test ends.
func startNode(t testing.TB) *testNode {
	t.Helper()
	hostKey, err := sshnode.LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	clientKey, keyPEM := newSigner(t)
	n := &testNode{host: newFakeHost(), hostKey: hostKey, clientKey: clientKey, keyPEM: keyPEM}
	n.serve(t, "127.0.0.1:0")
	t.Cleanup(n.stop)
	return n
}

// serve starts a server (again) on addr with the node's keys.
func (n *testNode) serve(t testing.TB, addr string) {
	t.Helper()
	srv, err := sshnode.New(sshnode.Config{
		Node:           testNodeName,
		HostKey:        n.hostKey,
		RootPassword:   testPassword,
		AuthorizedKeys: []ssh.PublicKey{n.clientKey.PublicKey()},
		Host:           n.host,
		NodeDir:        t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n.srv, n.listener, n.served = srv, &countingListener{Listener: l}, make(chan error, 1)
	n.addr = l.Addr().String()
	_, port, _ := net.SplitHostPort(n.addr)
	n.port, _ = strconv.Atoi(port)
	go func() { n.served <- srv.Serve(n.listener) }()
}

// stop closes the server and waits for Serve to return; it may be
// called more than once.
func (n *testNode) stop() {
	_ = n.srv.Close()
	if n.served != nil {
		if err := <-n.served; err != nil && !errors.Is(err, sshnode.ErrServerClosed) {
			panic("test SSH node stopped with: " + err.Error())
		}
		n.served = nil
	}
}

// config logs in as root with the password and pins the node's host key.
func (n *testNode) config(mods ...func(*Config)) Config {
	cfg := Config{
		Password: testPassword,
		HostKeys: []string{sshnode.AuthorizedKey(n.hostKey.PublicKey())},
		Nodes:    map[string]NodeAddress{testNodeName: {Address: "127.0.0.1", Port: n.port}},
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

// pct runs argv in container 101 and fails the test on any error.
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

package sshnodetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
)

// NodeName is the name of every test node, as in PVE's messages
// ("nodes/pve/lxc/101.conf").
const NodeName = "pve"

// RootPassword is root's password on every test node. Tests that check
// logs and errors for leaked secrets look for it.
const RootPassword = "s3cret-5b1c-never-logged" //nolint:gosec // a test node's password, public on purpose

// Option adjusts the Config a test node starts with.
type Option func(*sshnode.Config)

// WithoutLog keeps the node's diagnostics out of the test log; benchmarks
// use it, since a benchmark's log is always printed.
func WithoutLog() Option { return func(c *sshnode.Config) { c.Logf = nil } }

// Node is an sshnode.Server started for one test on 127.0.0.1, with the
// keys a client needs to reach it.
type Node struct {
	Server       *sshnode.Server
	Host         *Host
	HostKey      ssh.Signer // the server's key, after the options
	ClientKey    ssh.Signer // authorized for root
	ClientKeyPEM string     // ClientKey as an OpenSSH PEM private key
	NodeDir      string     // the node's root directory
	Addr         string     // "127.0.0.1:port"
	Port         int

	opts     []Option
	listener *countingListener
	done     chan struct{} // closed when Serve returns
	serveErr error
}

// Start serves node NodeName for host on a new loopback port until the
// test ends. Root logs in with RootPassword or ClientKey; the node's
// diagnostics go to t.Logf.
func Start(t testing.TB, host *Host, opts ...Option) *Node {
	t.Helper()
	hostKey, err := sshnode.LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	clientKey, keyPEM := NewKey(t)
	n := &Node{Host: host, HostKey: hostKey, ClientKey: clientKey, ClientKeyPEM: keyPEM, NodeDir: t.TempDir(), opts: opts}
	n.serve(t, "127.0.0.1:0")
	t.Cleanup(func() { n.Stop(t) })
	return n
}

// serve starts a server on addr with the node's keys, host and options.
func (n *Node) serve(t testing.TB, addr string) {
	t.Helper()
	cfg := sshnode.Config{
		Node:           NodeName,
		HostKey:        n.HostKey,
		RootPassword:   RootPassword,
		AuthorizedKeys: []ssh.PublicKey{n.ClientKey.PublicKey()},
		Host:           n.Host,
		NodeDir:        n.NodeDir,
		Logf:           t.Logf,
	}
	for _, o := range n.opts {
		o(&cfg)
	}
	srv, err := sshnode.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n.Server, n.HostKey = srv, cfg.HostKey
	n.listener, n.done = &countingListener{Listener: l}, make(chan struct{})
	n.Addr = l.Addr().String()
	_, port, _ := net.SplitHostPort(n.Addr)
	n.Port, _ = strconv.Atoi(port)
	go func() {
		n.serveErr = srv.Serve(n.listener)
		close(n.done)
	}()
}

// Wait waits for Serve to return and returns its error (ErrServerClosed
// after Close).
func (n *Node) Wait() error {
	<-n.done
	return n.serveErr
}

// Stop closes the server and waits for Serve to return, failing the test
// if either goes wrong. It may be called more than once.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	if err := n.Server.Close(); err != nil {
		t.Errorf("sshnodetest: Close: %v", err)
	}
	if err := n.Wait(); !errors.Is(err, sshnode.ErrServerClosed) {
		t.Errorf("sshnodetest: Serve returned %v, want ErrServerClosed", err)
	}
}

// Restart serves the node again after Stop: same address, keys, host and
// node directory, like a node whose sshd was restarted.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.serve(t, n.Addr)
}

// Accepted counts the connections the current server accepted (one per
// client dial).
func (n *Node) Accepted() int { return n.listener.accepted() }

// CutConnections closes every accepted connection from the server side,
// like a node whose sshd went away; the server keeps listening.
func (n *Node) CutConnections() { n.listener.cutAll() }

// Dial logs in as user with auth, verifying the node's host key.
func (n *Node) Dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", n.Addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(n.HostKey.PublicKey()),
		Timeout:         10 * time.Second,
	})
}

// Client logs in as root with ClientKey; the client is closed when the
// test ends.
func (n *Node) Client(t testing.TB) *ssh.Client {
	t.Helper()
	c, err := n.Dial("root", ssh.PublicKeys(n.ClientKey))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// NewKey generates an ed25519 key and returns it as a signer and as an
// OpenSSH PEM private key.
func NewKey(t testing.TB) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "sshnodetest")
	if err != nil {
		t.Fatal(err)
	}
	return signer, string(pem.EncodeToMemory(block))
}

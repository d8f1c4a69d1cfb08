package sshnode

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

const testPassword = "s3cret-root-pw"

// blockArgv makes the fake host block in Exec until its context ends.
const blockArgv = "fake-block-until-cancelled"

// fakeHost is a Host whose containers share the test machine's
// filesystem and processes: Exec runs argv with os/exec, so push.sh and
// pull.sh really run under sh against real files.
type fakeHost struct {
	mu          sync.Mutex
	cts         map[int]Container
	unavailable bool // Exec fails with backend.ErrExecUnavailable
	calls       []execCall
	blocked     chan struct{} // receives when an Exec blocks on blockArgv
	cancelled   chan error    // receives ctx.Err() when a blocked Exec ends
}

type execCall struct {
	vmid int
	argv []string
}

func newFakeHost(cts ...Container) *fakeHost {
	h := &fakeHost{
		cts:       map[int]Container{},
		blocked:   make(chan struct{}, 16),
		cancelled: make(chan error, 16),
	}
	for _, ct := range cts {
		h.cts[ct.VMID] = ct
	}
	return h
}

func (h *fakeHost) Container(vmid int) (Container, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ct, ok := h.cts[vmid]
	return ct, ok
}

func (h *fakeHost) Containers() []Container {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Container
	for _, ct := range h.cts {
		out = append(out, ct)
	}
	// Descending on purpose: pct list must not rely on the Host's order.
	slices.SortFunc(out, func(a, b Container) int { return b.VMID - a.VMID })
	return out
}

func (h *fakeHost) Exec(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	h.mu.Lock()
	h.calls = append(h.calls, execCall{vmid: vmid, argv: slices.Clone(argv)})
	unavailable := h.unavailable
	h.mu.Unlock()
	if unavailable {
		return 0, backend.ErrExecUnavailable
	}
	if argv[0] == blockArgv {
		h.blocked <- struct{}{}
		<-ctx.Done()
		h.cancelled <- ctx.Err()
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

// Unlock clears the lock the way the simulator's host does, with PVE's
// text when there is none.
func (h *fakeHost) Unlock(_ context.Context, vmid int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ct, ok := h.cts[vmid]
	switch {
	case !ok:
		return errors.New("Configuration file 'nodes/pve/lxc/" + strconv.Itoa(vmid) + ".conf' does not exist")
	case ct.Lock == "":
		return errors.New("no lock found trying to remove any lock")
	}
	ct.Lock = ""
	h.cts[vmid] = ct
	return nil
}

func (h *fakeHost) lastCall(t *testing.T) execCall {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.calls) == 0 {
		t.Fatal("Host.Exec was never called")
	}
	return h.calls[len(h.calls)-1]
}

func (h *fakeHost) callCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

// testNode is a running server with its fake host and client credentials.
type testNode struct {
	srv       *Server
	addr      string
	host      *fakeHost
	nodeDir   string
	hostKey   ssh.Signer
	clientKey ssh.Signer
	served    chan error
}

func newClientKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// startNode serves a node named "pve" on a loopback port until the test
// ends; configure may adjust the Config before New.
func startNode(t *testing.T, host *fakeHost, configure ...func(*Config)) *testNode {
	t.Helper()
	n := startNodeWithoutCleanup(t, host, configure...)
	t.Cleanup(func() {
		if err := n.srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-n.served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return n
}

// startNodeWithoutCleanup is startNode for tests that close the server and
// collect Serve's result themselves.
func startNodeWithoutCleanup(t *testing.T, host *fakeHost, configure ...func(*Config)) *testNode {
	t.Helper()
	hostKey, err := LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{host: host, nodeDir: t.TempDir(), hostKey: hostKey, clientKey: newClientKey(t), served: make(chan error, 1)}
	cfg := Config{
		Node:           "pve",
		HostKey:        hostKey,
		RootPassword:   testPassword,
		AuthorizedKeys: []ssh.PublicKey{n.clientKey.PublicKey()},
		Host:           host,
		NodeDir:        n.nodeDir,
		Logf:           t.Logf,
	}
	for _, c := range configure {
		c(&cfg)
	}
	n.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.addr = l.Addr().String()
	go func() { n.served <- n.srv.Serve(l) }()
	return n
}

// dial logs in as user with auth, verifying the node's host key.
func (n *testNode) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", n.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(n.hostKey.PublicKey()),
		Timeout:         10 * time.Second,
	})
}

// client logs in as root with the authorized key and closes at test end.
func (n *testNode) client(t *testing.T) *ssh.Client {
	t.Helper()
	c, err := n.dial("root", ssh.PublicKeys(n.clientKey))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// result is what a client sees from one exec.
type result struct {
	stdout, stderr string
	code           int
}

// run executes line in a new session with stdin and returns its output
// and exit status; a session that ends without exit status fails the test.
func run(t *testing.T, c *ssh.Client, line, stdin string) result {
	t.Helper()
	r, err := tryRun(c, line, stdin)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return r
}

func tryRun(c *ssh.Client, line, stdin string) (result, error) {
	sess, err := c.NewSession()
	if err != nil {
		return result{}, err
	}
	defer func() { _ = sess.Close() }()
	var out, errOut bytes.Buffer
	sess.Stdin = strings.NewReader(stdin)
	sess.Stdout, sess.Stderr = &out, &errOut
	err = sess.Run(line)
	r := result{stdout: out.String(), stderr: errOut.String()}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitStatus()
	default:
		return r, err
	}
	return r, nil
}

// shellQuote quotes s for a POSIX shell the way the provider's sshexec
// does: inside single quotes, each single quote is closed, escaped with a
// backslash and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

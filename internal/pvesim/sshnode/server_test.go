package sshnode_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

var running101 = sshnode.Container{VMID: 101, Status: "running", Name: "web"}

func TestAuthentication(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	strangerKey, _ := sshnodetest.NewKey(t)
	tests := []struct {
		name string
		user string
		auth ssh.AuthMethod
		ok   bool
	}{
		{"root password", "root", ssh.Password(sshnodetest.RootPassword), true},
		{"wrong password", "root", ssh.Password("wrong"), false},
		{"password prefix", "root", ssh.Password(sshnodetest.RootPassword[:4]), false},
		{"empty password", "root", ssh.Password(""), false},
		{"root password for another user", "admin", ssh.Password(sshnodetest.RootPassword), false},
		{"authorized key", "root", ssh.PublicKeys(n.ClientKey), true},
		{"unknown key", "root", ssh.PublicKeys(strangerKey), false},
		{"authorized key for another user", "admin", ssh.PublicKeys(n.ClientKey), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := n.Dial(tt.user, tt.auth)
			if c != nil {
				defer func() { _ = c.Close() }()
			}
			if tt.ok && err != nil {
				t.Fatalf("login refused: %v", err)
			}
			if !tt.ok {
				if err == nil {
					t.Fatal("login accepted")
				}
				if strings.Contains(err.Error(), sshnodetest.RootPassword) {
					t.Fatalf("error reveals the password: %v", err)
				}
				return
			}
			if r := run(t, c, "pct status 101", ""); r.stdout != "status: running\n" {
				t.Errorf("after login, pct status = %+v", r)
			}
		})
	}
}

func TestPasswordLoginDisabledWithoutRootPassword(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(), func(c *sshnode.Config) { c.RootPassword = "" })
	if c, err := n.Dial("root", ssh.Password("")); err == nil {
		_ = c.Close()
		t.Fatal("empty password accepted when password login is off")
	}
	c, err := n.Dial("root", ssh.PublicKeys(n.ClientKey))
	if err != nil {
		t.Fatalf("key login: %v", err)
	}
	_ = c.Close()
}

func TestHostKeyStableAcrossServers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pve", "ssh_host_ed25519_key")
	seen := make([]ssh.PublicKey, 2)
	for i := range seen {
		key, err := sshnode.LoadOrCreateHostKey(path)
		if err != nil {
			t.Fatal(err)
		}
		n := sshnodetest.Start(t, sshnodetest.NewHost(), func(c *sshnode.Config) { c.HostKey = key })
		c, err := ssh.Dial("tcp", n.Addr, &ssh.ClientConfig{
			User: "root",
			Auth: []ssh.AuthMethod{ssh.Password(sshnodetest.RootPassword)},
			HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
				seen[i] = key
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	if !bytes.Equal(seen[0].Marshal(), seen[1].Marshal()) {
		t.Fatalf("host key changed between servers: %s vs %s", sshnode.AuthorizedKey(seen[0]), sshnode.AuthorizedKey(seen[1]))
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	key, err := sshnode.LoadOrCreateHostKey("")
	if err != nil {
		t.Fatal(err)
	}
	full := sshnode.Config{Node: "pve", HostKey: key, Host: sshnodetest.NewHost(), NodeDir: t.TempDir()}
	tests := []struct {
		field  string
		modify func(*sshnode.Config)
	}{
		{"Node", func(c *sshnode.Config) { c.Node = "" }},
		{"HostKey", func(c *sshnode.Config) { c.HostKey = nil }},
		{"Host", func(c *sshnode.Config) { c.Host = nil }},
		{"NodeDir", func(c *sshnode.Config) { c.NodeDir = "" }},
		{"node directory", func(c *sshnode.Config) { c.NodeDir = filepath.Join(c.NodeDir, "missing") }},
	}
	for _, tt := range tests {
		cfg := full
		tt.modify(&cfg)
		if _, err := sshnode.New(cfg); err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("without %s: New error = %v", tt.field, err)
		}
	}
	s, err := sshnode.New(full)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestExecStreamsAndExitStatus(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	r := run(t, c, `pct exec 101 -- sh -c 'cat; echo oops >&2; exit 9'`, "hello\nworld\n")
	if r.code != 9 || r.stdout != "hello\nworld\n" || r.stderr != "oops\n" {
		t.Fatalf("got %+v", r)
	}
	call := n.Host.LastCall(t)
	if call.VMID != 101 || strings.Join(call.Argv, "|") != "sh|-c|cat; echo oops >&2; exit 9" {
		t.Fatalf("Host.Exec got vmid %d argv %q", call.VMID, call.Argv)
	}
}

func TestExecQuotedArgumentsArriveIntact(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	args := []string{"with space", "it's", `say "hi"`, `back\slash`, "tab\tnew\nline", "$HOME `id` *", "", "-n"}
	line := "/usr/sbin/pct exec 101 --keep-env 0 -- printf '[%s]\\n'"
	want := ""
	for _, a := range args {
		line += " " + sshexec.Quote(a)
		want += "[" + a + "]\n"
	}
	// The double-quoted and backslash-escaped spellings of one argument.
	line += ` "dq \"x\" \\ \$y" bs\ \'z\'`
	want += "[dq \"x\" \\ $y]\n[bs 'z']\n"

	r := run(t, c, line, "")
	if r.code != 0 || r.stdout != want {
		t.Fatalf("got %+v\nwant stdout %q", r, want)
	}
	argv := n.Host.LastCall(t).Argv
	if len(argv) != 2+len(args)+2 {
		t.Fatalf("argv has %d elements: %q", len(argv), argv)
	}
}

func TestExecCompletesWhileClientKeepsStdinOpen(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sess.Close() }()
	stdin, err := sess.StdinPipe() // never closed
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close() }()
	var out bytes.Buffer
	sess.Stdout = &out
	if err := sess.Start("pct exec 101 -- echo done"); err != nil {
		t.Fatal(err)
	}
	if err := sess.Wait(); err != nil || out.String() != "done\n" {
		t.Fatalf("Wait = %v, stdout %q", err, out.String())
	}
}

func TestShellAndTerminalAreRefused(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)

	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sess.Close() }()
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err == nil {
		t.Error("pty request accepted")
	}
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	err = sess.Wait()
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 1 {
		t.Fatalf("shell ended with %v, want exit status 1", err)
	}
	if !strings.Contains(stderr.String(), "runs commands only") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func TestEnvRequestsAreAccepted(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sess.Close() }()
	if err := sess.Setenv("LANG", "C.UTF-8"); err != nil {
		t.Fatalf("Setenv: %v", err)
	}
	out, err := sess.Output("pct status 101")
	if err != nil || string(out) != "status: running\n" {
		t.Fatalf("Output = %q, %v", out, err)
	}
}

func TestKeepaliveIsAnswered(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost())
	c := n.Client(t)
	ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil || !ok {
		t.Fatalf("keepalive: ok=%v err=%v", ok, err)
	}
	ok, _, err = c.SendRequest("tcpip-forward", true, ssh.Marshal(struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0}))
	if err != nil || ok {
		t.Fatalf("port forwarding: ok=%v err=%v, want refused", ok, err)
	}
}

func TestConcurrentSessionsOnOneConnection(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	const sessions = 20
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		wg.Go(func() {
			in := fmt.Sprintf("payload-%d", i)
			r, err := tryRun(c, `pct exec 101 -- sh -c 'read x; echo "$x"; echo "e$x" >&2; exit "$1"' sh `+fmt.Sprint(i%8), in+"\n")
			switch {
			case err != nil:
				errs <- err
			case r.code != i%8 || r.stdout != in+"\n" || r.stderr != "e"+in+"\n":
				errs <- fmt.Errorf("session %d: %+v", i, r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestManyConnections(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	const clients = 10
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			c, err := n.Dial("root", ssh.Password(sshnodetest.RootPassword))
			if err != nil {
				errs <- err
				return
			}
			defer func() { _ = c.Close() }()
			r, err := tryRun(c, fmt.Sprintf("pct exec 101 -- echo %d", i), "")
			switch {
			case err != nil:
				errs <- fmt.Errorf("client %d: %w", i, err)
			case r.stdout != fmt.Sprintf("%d\n", i):
				errs <- fmt.Errorf("client %d: %+v", i, r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseEndsLiveSessions(t *testing.T) {
	host := sshnodetest.NewHost(running101)
	n := sshnodetest.Start(t, host)
	c := n.Client(t)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("pct exec 101 -- " + sshnodetest.ArgvBlock); err != nil {
		t.Fatal(err)
	}
	<-host.Blocked

	if err := n.Server.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close has waited for every handler, so the command has seen its
	// context cancelled already.
	select {
	case err := <-host.Cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("command ended with %v", err)
		}
	default:
		t.Fatal("Close returned while a command was still running")
	}
	if err := sess.Wait(); err == nil {
		t.Error("session ended cleanly although the server went away")
	}
	if _, err := n.Dial("root", ssh.Password(sshnodetest.RootPassword)); err == nil {
		t.Error("new connection accepted after Close")
	}
	if err := n.Server.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		host := sshnodetest.NewHost(running101)
		n := sshnodetest.Start(t, host)
		c, err := n.Dial("root", ssh.PublicKeys(n.ClientKey))
		if err != nil {
			t.Fatal(err)
		}
		// cat reads its input to the end: a command that exits without
		// reading it lets the client's stdin copy hit the closed channel
		// (EOF from Run), which is not what this test is about.
		for range 5 {
			if r := run(t, c, "pct exec 101 -- cat", "in"); r.stdout != "in" {
				t.Fatalf("cat echoed %q", r.stdout)
			}
		}
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Start("pct exec 101 -- " + sshnodetest.ArgvBlock); err != nil {
			t.Fatal(err)
		}
		<-host.Blocked
		if err := n.Server.Close(); err != nil {
			t.Fatal(err)
		}
		_ = sess.Wait()
		_ = c.Close()
		if err := n.Wait(); !errors.Is(err, sshnode.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	}()
	// Client-side goroutines of x/crypto/ssh finish asynchronously after
	// the connection drops; allow them a moment.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

package sshexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

func TestOneConnectionReusedForManyRuns(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	for i := range 20 {
		res := mustRun(t, c, Command{Argv: PctExec(testVMID, "echo", strconv.Itoa(i))})
		if string(res.Stdout) != fmt.Sprintf("%d\n", i) {
			t.Fatalf("run %d: stdout %q", i, res.Stdout)
		}
	}
	if got := n.Accepted(); got != 1 {
		t.Errorf("20 Runs dialled %d times, want 1", got)
	}
}

// TestConcurrentRuns: many goroutines share one connection, more than the
// sessions a node allows at once, and each gets its own output.
func TestConcurrentRuns(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	const runs = 40
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for i := range runs {
		wg.Go(func() {
			want := fmt.Sprintf("run-%d", i)
			res, err := c.Run(t.Context(), testNodeName, Command{
				Argv:  PctExec(testVMID, "sh", "-c", "cat; echo "+want+" >&2"),
				Stdin: strings.NewReader(want),
			})
			switch {
			case err != nil:
				errs <- err
			case string(res.Stdout) != want || string(res.Stderr) != want+"\n":
				errs <- fmt.Errorf("run %d got %q / %q", i, res.Stdout, res.Stderr)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := n.Accepted(); got != 1 {
		t.Errorf("%d concurrent Runs dialled %d times, want 1", runs, got)
	}
}

// TestConcurrentSessionsAreBounded: at most maxSessionsPerConn sessions are
// open at once; the others wait instead of failing.
func TestConcurrentSessionsAreBounded(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range maxSessionsPerConn + 3 {
		wg.Go(func() { _, _ = c.Run(ctx, testNodeName, Command{Argv: PctExec(testVMID, sshnodetest.ArgvBlock)}) })
	}
	for range maxSessionsPerConn {
		waitFor(t, n.Host.Blocked, "a blocking command to start")
	}
	select {
	case <-n.Host.Blocked:
		t.Errorf("more than %d sessions ran at once", maxSessionsPerConn)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	wg.Wait()
}

func TestConcurrentFirstRunsShareOneDial(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 10 {
		wg.Go(func() {
			<-start
			if _, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, "true")}); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := n.Accepted(); got != 1 {
		t.Errorf("10 simultaneous first Runs dialled %d times, want 1", got)
	}
}

func TestRedialAfterIdleConnectionClosed(t *testing.T) {
	n := startNode(t)
	var logs syncBuffer
	ctx := logContext(t, &logs)
	c := newClient(t, n.config())
	if _, err := c.Run(ctx, testNodeName, Command{Argv: PctExec(testVMID, "true")}); err != nil {
		t.Fatal(err)
	}
	n.CutConnections()
	res, err := c.Run(ctx, testNodeName, Command{Argv: PctExec(testVMID, "echo", "again")})
	if err != nil || string(res.Stdout) != "again\n" {
		t.Fatalf("Run after the node closed the connection = %v, %+v", err, res)
	}
	if got := n.Accepted(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
	if !strings.Contains(logs.String(), "re-dialling") {
		t.Errorf("the re-dial is not logged:\n%s", logs.String())
	}
}

// TestRedialWhenDeadConnectionIsNotYetNoticed: a connection that died
// without the client noticing (it looks alive) is replaced when opening a
// session on it fails.
func TestRedialWhenDeadConnectionIsNotYetNoticed(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	slot := c.nodes[testNodeName]
	old := slot.conn
	// Replace the connection by one whose "done" never closes although its
	// transport is closed: the liveness check says alive, NewSession fails.
	ghost := &nodeConn{node: old.node, addr: old.addr, client: old.client, done: make(chan struct{}), sessions: make(chan struct{}, maxSessionsPerConn)}
	old.close()
	<-old.done
	c.mu.Lock()
	slot.conn = ghost
	c.mu.Unlock()
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	if got := n.Accepted(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
}

func TestRedialAfterNodeRestart(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	n.Stop(t)
	n.Restart(t) // same port, same host key
	res := mustRun(t, c, Command{Argv: PctExec(testVMID, "echo", "restarted")})
	if string(res.Stdout) != "restarted\n" {
		t.Errorf("stdout %q", res.Stdout)
	}
}

func TestNoEndlessRedialWhenNodeIsGone(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	n.Stop(t)
	_, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, "true")})
	if err == nil || !strings.Contains(err.Error(), `connect to node "pve"`) {
		t.Errorf("Run = %v, want a connect error", err)
	}
}

func TestInterruptedWhenConnectionCutMidCommand(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, sshnodetest.ArgvBlock, "--secret-arg")})
		done <- err
	}()
	waitFor(t, n.Host.Blocked, "the command to start")
	n.CutConnections()
	err := waitFor(t, done, "Run to return")
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run = %v, want ErrInterrupted", err)
	}
	for _, want := range []string{`node "pve"`, "pct exec 101 -- block", "not retried"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "--secret-arg") {
		t.Errorf("error %q shows the arguments", err)
	}

	// Never re-run; the next Run gets a new connection.
	mustRun(t, c, Command{Argv: PctExec(testVMID, sshnodetest.ArgvRecord, "next")})
	var blocks int
	for _, call := range n.Host.Calls() {
		if call.Argv[0] == sshnodetest.ArgvBlock {
			blocks++
		}
	}
	if blocks != 1 {
		t.Errorf("the interrupted command ran %d times, want 1", blocks)
	}
	if got := n.Accepted(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
}

// freezeProxy forwards TCP connections to a target and can freeze the
// ones it carries: bytes stop flowing but nothing is closed, like a node
// that lost power or a NAT that forgot the connection.
type freezeProxy struct {
	l        net.Listener
	target   string
	accepted atomic.Int32
	mu       sync.Mutex
	frozen   []*atomic.Bool
	stop     chan struct{}
}

func startProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{l: l, target: target, stop: make(chan struct{})}
	t.Cleanup(func() { close(p.stop); _ = l.Close() })
	go p.serve(t)
	return p
}

func (p *freezeProxy) port() int { return p.l.Addr().(*net.TCPAddr).Port }

func (p *freezeProxy) serve(t *testing.T) {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		var d net.Dialer
		out, err := d.DialContext(t.Context(), "tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		frozen := new(atomic.Bool)
		p.mu.Lock()
		p.frozen = append(p.frozen, frozen)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			defer func() { _ = dst.Close(); _ = src.Close() }()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if frozen.Load() {
					<-p.stop
					return
				}
				if n > 0 {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}
		go pipe(out, in)
		go pipe(in, out)
	}
}

// freeze stops the traffic of every connection carried so far.
func (p *freezeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.frozen {
		f.Store(true)
	}
}

// TestKeepaliveDetectsASilentlyDeadConnection: an idle connection whose
// peer vanished without closing it is closed by the keepalive, and the
// next Run dials afresh instead of hanging.
func TestKeepaliveDetectsASilentlyDeadConnection(t *testing.T) {
	n := startNode(t)
	p := startProxy(t, n.Addr)
	c := newClient(t, n.config(func(cfg *Config) { cfg.Nodes[testNodeName] = NodeAddress{Address: "127.0.0.1", Port: p.port()} }))
	c.timing.keepaliveInterval, c.timing.keepaliveTimeout = 50*time.Millisecond, 200*time.Millisecond
	c.timing.sessionOpen = time.Hour // only the keepalive can notice

	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	nc := c.nodes[testNodeName].conn
	p.freeze()
	waitFor(t, nc.done, "the keepalive to close the dead connection")
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	if got := p.accepted.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
}

// TestKeepaliveKeepsALiveConnection: answered keepalives leave the
// connection alone.
func TestKeepaliveKeepsALiveConnection(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	c.timing.keepaliveInterval, c.timing.keepaliveTimeout = 10*time.Millisecond, 5*time.Second
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	time.Sleep(200 * time.Millisecond) // about 20 keepalives
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	if got := n.Accepted(); got != 1 {
		t.Errorf("%d connections, want 1", got)
	}
}

// TestSessionOpenTimeoutRedials: without keepalive, a dead connection is
// found when the node does not open a session, and re-dialled once.
func TestSessionOpenTimeoutRedials(t *testing.T) {
	n := startNode(t)
	p := startProxy(t, n.Addr)
	c := newClient(t, n.config(func(cfg *Config) { cfg.Nodes[testNodeName] = NodeAddress{Address: "127.0.0.1", Port: p.port()} }))
	c.timing.keepaliveInterval = time.Hour
	c.timing.sessionOpen = 300 * time.Millisecond

	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	p.freeze()
	res := mustRun(t, c, Command{Argv: PctExec(testVMID, "echo", "fresh")})
	if string(res.Stdout) != "fresh\n" || p.accepted.Load() != 2 {
		t.Errorf("stdout %q after %d connections, want fresh after 2", res.Stdout, p.accepted.Load())
	}
}

// TestInterruptedWhenConnectionFreezesMidCommand: a command whose
// connection goes silent ends with ErrInterrupted once the keepalive
// gives up.
func TestInterruptedWhenConnectionFreezesMidCommand(t *testing.T) {
	n := startNode(t)
	p := startProxy(t, n.Addr)
	c := newClient(t, n.config(func(cfg *Config) { cfg.Nodes[testNodeName] = NodeAddress{Address: "127.0.0.1", Port: p.port()} }))
	c.timing.keepaliveInterval, c.timing.keepaliveTimeout = 50*time.Millisecond, 200*time.Millisecond
	c.timing.probe = 200 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, sshnodetest.ArgvBlock)})
		done <- err
	}()
	waitFor(t, n.Host.Blocked, "the command to start")
	p.freeze()
	if err := waitFor(t, done, "Run to return"); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run = %v, want ErrInterrupted", err)
	}
}

func TestDialBoundedByContext(t *testing.T) {
	// A listener that accepts but never speaks SSH.
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, conn) }()
		}
	}()
	c := newClient(t, Config{Password: "pw", InsecureIgnoreHostKey: true,
		Nodes: map[string]NodeAddress{"mute": {Address: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}}})

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Run(ctx, "mute", Command{Argv: []string{"true"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want context.DeadlineExceeded", err)
	}

	c.timing.dial = 200 * time.Millisecond
	_, err = c.Run(t.Context(), "mute", Command{Argv: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Errorf("Run = %v, want the dial limit", err)
	}
}

func TestLogging(t *testing.T) {
	n := startNode(t)
	var logs syncBuffer
	ctx := logContext(t, &logs)
	c := newClient(t, n.config())
	const secretArg = "argv-secret-91f2"
	const secretStdin = "stdin-secret-77ab"
	for range 2 {
		if _, err := c.Run(ctx, testNodeName, Command{
			Argv:  PctExec(testVMID, "sh", "-c", "cat >/dev/null; echo "+secretArg),
			Stdin: strings.NewReader(secretStdin),
		}); err != nil {
			t.Fatal(err)
		}
	}
	out := logs.String()
	for _, want := range []string{
		`"@module":"provider.ssh"`, "connecting to node over SSH", "connected to node over SSH",
		"reusing the SSH connection", `"command":"pct exec 101 -- sh"`, `"node":"pve"`,
		`"address":"127.0.0.1:` + strconv.Itoa(n.Port), `"user":"root"`, `"exit_code":0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for _, leak := range []string{sshnodetest.RootPassword, secretArg, secretStdin, "cat >/dev/null"} {
		if strings.Contains(out, leak) {
			t.Errorf("logs contain %q", leak)
		}
	}
}

func TestInsecureIgnoreHostKeyWarnsOnEveryConnection(t *testing.T) {
	n := startNode(t)
	var logs syncBuffer
	ctx := logContext(t, &logs)
	c := newClient(t, n.config(func(cfg *Config) { cfg.HostKeys, cfg.InsecureIgnoreHostKey = nil, true }))
	for range 2 {
		if _, err := c.Run(ctx, testNodeName, Command{Argv: PctExec(testVMID, "true")}); err != nil {
			t.Fatal(err)
		}
		n.CutConnections()
	}
	var warnings []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"@level":"warn"`) {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 2 {
		t.Fatalf("%d warnings for 2 connections, want 2:\n%s", len(warnings), logs.String())
	}
	for _, w := range warnings {
		for _, want := range []string{"insecure_ignore_host_key", `"node":"pve"`, `"fingerprint":"SHA256:`} {
			if !strings.Contains(w, want) {
				t.Errorf("warning %s lacks %s", w, want)
			}
		}
	}
	if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, `"@module":"provider.ssh"`) }) {
		t.Error("the warning is not in the ssh subsystem")
	}
}

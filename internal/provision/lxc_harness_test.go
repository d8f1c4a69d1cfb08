package provision

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// The real-container tests run the agent in LXC containers of the
// simulator's lxc backend: Debian 12 with systemd, on a private bridge
// without egress, with apt, pip and npm pointed at a LocalRepo on the
// bridge (the backend writes the repository's sources into every new
// container, as a site's own template would carry them).

// lxcEnv is a backend with a local package repository and an OS image.
type lxcEnv struct {
	b     *lxcbackend.Backend
	repo  *lxctest.LocalRepo
	image string
}

// newLXCEnv starts a backend and a LocalRepo serving the given packages
// on its bridge; both are closed when the test ends.
func newLXCEnv(t testing.TB, cfg lxctest.LocalRepoConfig) *lxcEnv {
	t.Helper()
	b := lxctest.NewBackend(t, lxcbackend.Config{})
	repo := lxctest.ServeRepo(t, b, cfg)
	return &lxcEnv{b: b, repo: repo, image: lxctest.Image(t, b)}
}

// lxcCT is a running container; execs counts every command run in it.
type lxcCT struct {
	env   *lxcEnv
	vmid  int
	execs atomic.Int64
}

// startCT creates and starts an unprivileged container with an address on
// the bridge and waits until ReadyArgv says it can be provisioned.
func (e *lxcEnv) startCT(t testing.TB, vmid int) *lxcCT {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec := lxctest.Spec(vmid, e.image, "dhcp", true)
	spec.MemoryMiB, spec.Cores = 1024, 2
	if err := e.b.Create(ctx, spec, func(string) {}); err != nil {
		t.Fatalf("create CT %d: %v", vmid, err)
	}
	if err := e.b.Start(ctx, vmid); err != nil {
		t.Fatalf("start CT %d: %v", vmid, err)
	}
	ct := &lxcCT{env: e, vmid: vmid}
	out, errOut, code := ct.exec(t, ReadyArgv(), nil)
	if code != 0 {
		t.Fatalf("CT %d not ready: exit %d %s %s", vmid, code, out, errOut)
	}
	t.Logf("CT %d ready: systemd %s", vmid, strings.TrimSpace(out))
	return ct
}

// exec runs argv in the container like `pct exec`.
func (c *lxcCT) exec(t testing.TB, argv []string, stdin io.Reader) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	c.execs.Add(1)
	code, err := c.env.b.Exec(ctx, c.vmid, argv, stdin, &out, &errOut)
	if err != nil {
		t.Fatalf("CT %d: exec: %v", c.vmid, err)
	}
	return out.String(), errOut.String(), code
}

// sh runs a shell command in the container and fails the test unless it
// exits 0; it returns stdout.
func (c *lxcCT) sh(t testing.TB, script string) string {
	t.Helper()
	c.execs.Add(1)
	return lxctest.Sh(t, c.env.b, c.vmid, script)
}

// provisioned is one agent run in a container.
type provisioned struct {
	rep      *Report
	progress []string
	exit     int
	execs    int64 // execs the run took
}

// provision runs r in the container as the provider does: one exec with
// the agent's argv and stdin, its stdout parsed while it streams.
func (c *lxcCT) provision(t testing.TB, r *Run) provisioned {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stdin, err := r.Stdin()
	if err != nil {
		t.Fatal(err)
	}
	before := c.execs.Load()
	pr, pw := io.Pipe()
	type parsed struct {
		rep      *Report
		progress []string
		err      error
	}
	done := make(chan parsed, 1)
	go func() {
		var p parsed
		p.rep, p.err = ParseReport(pr, func(line string) { p.progress = append(p.progress, line) })
		_, _ = io.Copy(io.Discard, pr)
		done <- p
	}()
	var stderr bytes.Buffer
	c.execs.Add(1)
	code, err := c.env.b.Exec(ctx, c.vmid, r.Argv(), stdin, pw, &stderr)
	_ = pw.Close()
	p := <-done
	if err != nil || p.err != nil {
		t.Fatalf("CT %d: provisioning exec: %v / %v\nstderr: %s", c.vmid, err, p.err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("agent stderr: %s", stderr.String())
	}
	return provisioned{rep: p.rep, progress: p.progress, exit: code, execs: c.execs.Load() - before}
}

// logProgress shows a run's progress lines (on failure, to explain it).
func logProgress(t testing.TB, p provisioned) {
	t.Helper()
	t.Logf("agent progress (%d lines):\n%s", len(p.progress), strings.Join(p.progress, "\n"))
}

package provision

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// The real-container tests run the agent in LXC containers of the
// simulator's lxc backend: Debian 12 with systemd, on a private bridge
// without egress, with apt, pip and npm pointed at a LocalRepo on the
// bridge (the backend writes the repository's sources into every new
// container, as a site's own template would carry them).

// lxcAppliance is the Debian image the simulated aplinfo offers.
const lxcAppliance = "debian-12-standard_12.7-1_amd64.tar.zst"

// requireLXC skips a test where real containers cannot run, saying why.
func requireLXC(t testing.TB) {
	t.Helper()
	if err := lxcbackend.Available(); err != nil {
		t.Skipf("real-container provisioning tests need the simulator's lxc backend, which is not available here: %v", err)
	}
}

// lxcEnv is a backend with a local package repository and an OS image.
type lxcEnv struct {
	b     *lxcbackend.Backend
	repo  *lxcbackend.LocalRepo
	image string
}

// newLXCEnv starts a backend and a LocalRepo serving the given packages
// on its bridge; both are closed when the test ends.
func newLXCEnv(t testing.TB, cfg lxcbackend.LocalRepoConfig) *lxcEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, err := lxcbackend.New(lxcbackend.Config{StateDir: searchableTempDir(t), Logf: t.Logf})
	if err != nil {
		t.Fatalf("lxc backend: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the lxc backend: %v", err)
		}
	})
	cfg.Listen = b.Gateway()
	cfg.Dir = t.TempDir()
	repo, err := lxcbackend.NewLocalRepo(ctx, cfg)
	if err != nil {
		t.Fatalf("local repository: %v", err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	if err := b.AddGuestFiles(repo.GuestFiles()); err != nil {
		t.Fatal(err)
	}
	image := filepath.Join(t.TempDir(), lxcAppliance)
	if err := b.PrepareImage(ctx, lxcAppliance, image, func(line string) { t.Log(line) }); err != nil {
		t.Fatalf("PrepareImage: %v", err)
	}
	return &lxcEnv{b: b, repo: repo, image: image}
}

// searchableTempDir is a test directory whose ancestors the root of an
// unprivileged container (uid 100000 on the host) can enter.
func searchableTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
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
	spec := backend.ContainerSpec{
		VMID: vmid, Node: "pve", Hostname: fmt.Sprintf("ct%d", vmid), ImagePath: e.image, Unprivileged: true,
		MemoryMiB: 1024, SwapMiB: 256, Cores: 2,
		Networks: []backend.Network{{Index: 0, Name: "eth0", Bridge: "vmbr0", IP: "dhcp"}},
	}
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
	out, errOut, code := c.exec(t, []string{"/bin/sh", "-c", script}, nil)
	if code != 0 {
		t.Fatalf("CT %d: %q exited %d\nstdout: %s\nstderr: %s", c.vmid, script, code, out, errOut)
	}
	return out
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

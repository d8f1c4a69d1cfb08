package provider

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// The end-to-end provisioning tests run the real Terraform CLI against the
// simulator on its lxc backend: real LXC containers (Debian 12 with
// systemd) on a private bridge without egress, provisioned over the
// simulated node's SSH server with `pct exec`. Packages come from a
// LocalRepo on the bridge, which every container is pointed at before it
// first boots.

// e2eEnv is a simulator on the lxc backend with a local package repository.
type e2eEnv struct {
	sim  *pvesim.Sim
	lxc  *lxcbackend.Backend
	repo *lxcbackend.LocalRepo
	ssh  *sshSessions
}

// requireE2E skips unless the acceptance tests are enabled and real LXC
// containers can run here (root on Linux; missing host packages are
// installed with apt first).
func requireE2E(tb testing.TB) {
	tb.Helper()
	if os.Getenv("TF_ACC") == "" {
		tb.Skip("the end-to-end provisioning tests drive the Terraform CLI; set TF_ACC=1 (make test does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := lxcbackend.EnsureHostPackages(ctx); err != nil {
		tb.Skipf("the end-to-end provisioning tests need the simulator's lxc backend, which cannot run here: %v", err)
	}
}

// newE2EEnv starts an lxc backend, a LocalRepo serving repoCfg's packages
// on its bridge and a simulator on top; everything is removed when the
// test ends.
func newE2EEnv(tb testing.TB, repoCfg lxcbackend.LocalRepoConfig) *e2eEnv {
	tb.Helper()
	requireE2E(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, err := lxcbackend.New(lxcbackend.Config{StateDir: searchableTempDir(tb), Logf: tb.Logf})
	if err != nil {
		tb.Fatalf("lxc backend: %v", err)
	}
	// The simulator closes its backend; this covers a failure before it
	// exists (Close is idempotent).
	tb.Cleanup(func() { _ = b.Close() })
	repoCfg.Listen = b.Gateway()
	repoCfg.Dir = tb.TempDir()
	repo, err := lxcbackend.NewLocalRepo(ctx, repoCfg)
	if err != nil {
		tb.Fatalf("local package repository: %v", err)
	}
	tb.Cleanup(func() { _ = repo.Close() })
	if err := b.AddGuestFiles(repo.GuestFiles()); err != nil {
		tb.Fatal(err)
	}
	sessions := &sshSessions{}
	sim := pvesim.New(tb, pvesim.WithBackend(b), sessions.option())
	return &e2eEnv{sim: sim, lxc: b, repo: repo, ssh: sessions}
}

// searchableTempDir is a test directory whose ancestors the root of an
// unprivileged container (uid 100000 on the host) can enter.
func searchableTempDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil { //nolint:gosec // see above
			tb.Fatal(err)
		}
	}
	return dir
}

// providerBlockSSH configures the provider with the simulator's API token
// and SSH access to its node: root's password and the pinned host key.
func (e *e2eEnv) providerBlockSSH() string {
	var nodes strings.Builder
	for _, n := range e.sim.Nodes() {
		fmt.Fprintf(&nodes, "    node {\n      name    = %q\n      address = %q\n      port    = %d\n    }\n", n.Name, n.SSHHost, n.SSHPort)
	}
	return fmt.Sprintf(`
provider "pve" {
  endpoint        = %q
  api_token       = %q
  tls_fingerprint = %q
  ssh {
    password = %q
    host_key = %q
%s  }
}
`, e.sim.Endpoint(), e.sim.APIToken(), e.sim.Fingerprint(), e.sim.Password(), e.sim.Nodes()[0].SSHHostKey, nodes.String())
}

// sh runs a shell script in a running container as root, like `pct exec`,
// and returns its stdout; a non-zero exit is an error showing both streams.
func (e *e2eEnv) sh(vmid int, script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code, err := e.lxc.Exec(ctx, vmid, []string{"/bin/sh", "-c", script}, nil, &stdout, &stderr)
	if err != nil {
		return "", fmt.Errorf("CT %d: exec %q: %w", vmid, script, err)
	}
	if code != 0 {
		return stdout.String(), fmt.Errorf("CT %d: %q exited %d\nstdout: %s\nstderr: %s", vmid, script, code, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// mustSh is sh for test code outside of check functions.
func (e *e2eEnv) mustSh(tb testing.TB, vmid int, script string) string {
	tb.Helper()
	out, err := e.sh(vmid, script)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// expectOutput checks that a script run in the container prints want.
func (e *e2eEnv) expectOutput(vmid int, what, script, want string) error {
	got, err := e.sh(vmid, script)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got != want {
		return fmt.Errorf("%s: got\n%s\nwant\n%s", what, got, want)
	}
	return nil
}

// stateVMID is the vmid of a resource in state.
func stateVMID(s *terraform.State, addr string) (int, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return 0, fmt.Errorf("%s is not in state", addr)
	}
	return strconv.Atoi(rs.Primary.Attributes["vmid"])
}

// checkNoOrphans asserts that the simulator holds exactly the containers
// in state, no more and no fewer.
func (e *e2eEnv) checkNoOrphans(s *terraform.State) error {
	var inState []int
	for addr, rs := range s.RootModule().Resources {
		if rs.Type != "pve_lxc_container" {
			continue
		}
		vmid, err := strconv.Atoi(rs.Primary.Attributes["vmid"])
		if err != nil {
			return fmt.Errorf("%s: vmid %q", addr, rs.Primary.Attributes["vmid"])
		}
		inState = append(inState, vmid)
	}
	var inSim []int
	for _, c := range e.sim.Containers() {
		inSim = append(inSim, c.VMID)
	}
	slices.Sort(inState)
	if !slices.Equal(inState, inSim) {
		return fmt.Errorf("the simulator holds containers %v, the state %v", inSim, inState)
	}
	return nil
}

// checkNoContainers is a CheckDestroy: nothing is left in the simulator.
func (e *e2eEnv) checkNoContainers(*terraform.State) error {
	if cts := e.sim.Containers(); len(cts) != 0 {
		return fmt.Errorf("%d containers left in the simulator after destroy: %+v", len(cts), cts)
	}
	return nil
}

// copyTemplates copies testdata/provision into a fresh directory, which
// tests then change between steps (executable bits are kept).
func copyTemplates(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "provision"))); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// writeTemplateFile replaces a file of a template directory between test steps.
func writeTemplateFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil { //nolint:gosec // a test template, world-readable like the original
		tb.Fatal(err)
	}
}

// sshSessions counts the SSH exec sessions the simulated nodes served, from
// the line each node logs when a session's command ends.
type sshSessions struct {
	mu       sync.Mutex
	total    int
	pctExecs map[int]int // by vmid
}

// sshSessionLine is the node's log line for a finished command.
var sshSessionLine = regexp.MustCompile(`^sshnode \S+: (.+) from \S+: exit -?\d+$`)

// option is the simulator option that feeds the counter.
func (c *sshSessions) option() pvesim.Option {
	return func(cfg *pvesim.Config) {
		next := cfg.Logf
		cfg.Logf = func(format string, args ...any) {
			c.observe(fmt.Sprintf(format, args...))
			next(format, args...)
		}
	}
}

func (c *sshSessions) observe(line string) {
	m := sshSessionLine.FindStringSubmatch(line)
	if m == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	if vmid, ok := strings.CutPrefix(m[1], "pct exec "); ok {
		if n, err := strconv.Atoi(vmid); err == nil {
			if c.pctExecs == nil {
				c.pctExecs = map[int]int{}
			}
			c.pctExecs[n]++
		}
	}
}

// Total is the number of SSH sessions so far, whatever their command.
func (c *sshSessions) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// PctExecs is the number of `pct exec` sessions into one container so far.
func (c *sshSessions) PctExecs(vmid int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pctExecs[vmid]
}

// httpGetFromHost fetches a URL from the host (through the bridge) and returns
// its body.
func httpGetFromHost(url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

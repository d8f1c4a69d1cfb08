package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// The end-to-end provisioning tests run the real Terraform CLI against the
// simulator on its lxc backend: real LXC containers (Debian 12 with
// systemd) on a private bridge without egress, provisioned over the
// simulated node's SSH server with `pct exec`. Packages come from a
// LocalRepo on the bridge, which every container is pointed at before it
// first boots.

// e2eEnv is a simulator on the lxc backend with a local package repository.
type e2eEnv struct {
	sim  *pvesimtest.Sim
	lxc  *lxcbackend.Backend
	repo *lxctest.LocalRepo
	ssh  *sshSessions
}

// newE2EEnv starts an lxc backend, a LocalRepo serving repoCfg's packages
// on its bridge and a simulator on top; everything is removed when the
// test ends.
func newE2EEnv(tb testing.TB, repoCfg lxctest.LocalRepoConfig) *e2eEnv {
	tb.Helper()
	return startE2EEnv(tb, newE2EBackend(tb), repoCfg)
}

// newE2EBackend starts the lxc backend of an e2eEnv. It skips unless the
// acceptance tests are enabled and real LXC containers can run here (root
// on Linux; missing host packages are installed with apt first).
func newE2EBackend(tb testing.TB) *lxcbackend.Backend {
	tb.Helper()
	if os.Getenv("TF_ACC") == "" {
		tb.Skip("the end-to-end provisioning tests drive the Terraform CLI; set TF_ACC=1 (make test does)")
	}
	lxctest.RequireInstalling(tb)
	return lxctest.NewBackend(tb, lxcbackend.Config{})
}

// startE2EEnv serves repoCfg's packages on b's bridge, points every
// container b creates at them and starts a simulator on b.
func startE2EEnv(tb testing.TB, b *lxcbackend.Backend, repoCfg lxctest.LocalRepoConfig) *e2eEnv {
	tb.Helper()
	repo := lxctest.ServeRepo(tb, b, repoCfg)
	sessions := &sshSessions{}
	sim := pvesimtest.New(tb, pvesimtest.WithBackend(b), sessions.option())
	return &e2eEnv{sim: sim, lxc: b, repo: repo, ssh: sessions}
}

// providerBlockSSH configures the provider as root@pam (templates may set
// feature flags only root@pam may) with SSH access to the node: root's
// password and the pinned host key.
func (e *e2eEnv) providerBlockSSH() string {
	var nodes strings.Builder
	for _, n := range e.sim.Nodes() {
		fmt.Fprintf(&nodes, "    node {\n      name    = %q\n      address = %q\n      port    = %d\n    }\n", n.Name, n.SSHHost, n.SSHPort)
	}
	return fmt.Sprintf(`
provider "pve" {
  endpoint        = %q
  username        = %q
  password        = %q
  tls_fingerprint = %q
  ssh {
    password = %q
    host_key = %q
%s  }
}
`, e.sim.Endpoint(), e.sim.Username(), e.sim.Password(), e.sim.Fingerprint(), e.sim.Password(), e.sim.Nodes()[0].SSHHostKey, nodes.String())
}

// sh runs a shell script in a running container as root, like `pct exec`,
// and returns its stdout; a non-zero exit is an error showing both streams.
func (e *e2eEnv) sh(vmid int, script string) (string, error) {
	return lxctest.Output(e.lxc, vmid, script)
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
func (c *sshSessions) option() pvesimtest.Option {
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

// devboxTemplate is the quickstart's development-box template.
var devboxTemplate = filepath.Join("..", "..", "examples", "quickstart", "templates", "devbox")

// devboxOfflineCopy is the devbox made to provision without the internet.
type devboxOfflineCopy struct {
	repo lxctest.LocalRepoConfig // every package it installs, served on the bridge
}

// devboxOffline copies the devbox template to dir so that it provisions
// offline, and says what the local repository must serve for it. As
// written, the devbox needs the internet: its apt packages (build tools,
// git, vim…) depend on many packages the image lacks, its npm tools come
// from the public registry and tools.custom pipes starship's installer
// from starship.rs. Offline, the local repository serves every package
// apt would install into the image (computed with the host's apt against
// the image's own dpkg status), stand-ins of the pinned npm packages, and
// the bridge serves a stand-in starship installer; scripts and files are
// the template's own.
func devboxOffline(tb testing.TB, be *lxcbackend.Backend, dir string) devboxOfflineCopy {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tpl, err := templatedir.LoadTemplate(devboxTemplate)
	if err != nil || !tpl.Valid() {
		tb.Fatalf("loading the devbox template: %v %v", err, tpl.Errors)
	}
	var out devboxOfflineCopy
	var wanted []string
	for _, p := range tpl.Spec.Packages {
		switch p.Manager {
		case templatedir.ManagerApt:
			wanted = append(wanted, p.Name)
		case templatedir.ManagerNpm:
			out.repo.NpmPackages = append(out.repo.NpmPackages, lxctest.NpmPackage{Name: p.Name, Version: p.Version})
		}
	}
	for _, s := range tpl.Spec.Scripts {
		for _, m := range ensureInstalledCall.FindAllStringSubmatch(s.Content, -1) {
			wanted = append(wanted, m[1])
		}
	}
	out.repo.AptPackages = aptInstallSet(ctx, tb, be, wanted)
	tb.Logf("devbox offline: %d apt packages into the image, npm stand-ins %v", len(out.repo.AptPackages), out.repo.NpmPackages)

	if err := os.CopyFS(dir, os.DirFS(devboxTemplate)); err != nil {
		tb.Fatal(err)
	}
	custom := filepath.Join(dir, "container-configs", "packages", "tools.custom")
	content := readTemplateFile(tb, custom)
	const installer = "https://starship.rs/install.sh"
	if !strings.Contains(content, installer) {
		tb.Fatalf("%s no longer installs starship from %s: update devboxOffline", custom, installer)
	}
	writeTemplateFile(tb, custom, strings.ReplaceAll(content, installer, lxctest.ServeFile(tb, be, "/starship/install.sh", lxctest.StarshipInstaller)))
	return out
}

// ensureInstalledCall finds the packages scripts install themselves.
var ensureInstalledCall = regexp.MustCompile(`(?m)^\s*ensure_installed\s+([a-z0-9][a-z0-9+.-]*)\s*$`)

// aptInstallSet is every package (as name=version) that `apt-get install
// --no-install-recommends` of the wanted packages the containers' image
// lacks installs or upgrades there, computed with the host's apt (the image
// is built from the same sources) against the image's dpkg status. The
// versions are pinned because the host's own candidates may come from
// elsewhere.
func aptInstallSet(ctx context.Context, tb testing.TB, be *lxcbackend.Backend, wanted []string) []string {
	tb.Helper()
	image := lxctest.Image(tb, be)
	status := filepath.Join(tb.TempDir(), "status")
	if out, err := exec.CommandContext(ctx, "sh", "-c", `tar --zstd -xOf "$1" --wildcards '*var/lib/dpkg/status' > "$2"`, "sh", image, status).CombinedOutput(); err != nil {
		tb.Fatalf("reading the image's dpkg status: %v\n%s", err, out)
	}
	data, err := os.ReadFile(status)
	if err != nil {
		tb.Fatal(err)
	}
	installed := map[string]bool{}
	for _, stanza := range strings.Split(string(data), "\n\n") {
		name, ok := dpkgField(stanza, "Package")
		if st, _ := dpkgField(stanza, "Status"); ok && st == "install ok installed" {
			installed[name] = true
		}
	}
	var missing []string
	for _, w := range wanted {
		if !installed[w] && !slices.Contains(missing, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	args := append([]string{"-s", "-o", "Dir::State::status=" + status, "-o", "Debug::NoLocking=true", "install", "--no-install-recommends"}, missing...)
	out, err := exec.CommandContext(ctx, "apt-get", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var pkgs []string
	for _, m := range aptSimulatedInstall.FindAllStringSubmatch(string(out), -1) {
		pkgs = append(pkgs, m[1]+"="+m[2])
	}
	return pkgs
}

// aptSimulatedInstall is a line of `apt-get -s install`: "Inst name
// [installed version] (new version release [arch])".
var aptSimulatedInstall = regexp.MustCompile(`(?m)^Inst (\S+) (?:\[[^]]*\] )?\((\S+) `)

// dpkgField is a field of a dpkg status stanza.
func dpkgField(stanza, field string) (string, bool) {
	for _, line := range strings.Split(stanza, "\n") {
		if v, ok := strings.CutPrefix(line, field+": "); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// devboxCheck checks a provisioned devbox: its user, dotfiles, tools and
// the npm tools (stand-ins) of the template.
func devboxCheck(env *e2eEnv) func(vmid int) error {
	return func(vmid int) error {
		return env.expectOutput(vmid, "devbox", `stat -c '%n %U:%G %a' /home/dev/.bashrc /home/dev/.gitconfig /usr/local/bin/devbox-info
head -1 /home/dev/.bashrc
id -nG dev | tr ' ' '\n' | grep -x sudo
starship
git --version | cut -d' ' -f1,2
npm ls -g --parseable --long typescript prettier @biomejs/biome | sed 's/.*://' | sort
sed -n 's/^\(USERNAME\)=/\1 /p' /etc/lxctm/credentials/dev-user`, `/home/dev/.bashrc dev:dev 644
/home/dev/.gitconfig dev:dev 644
/usr/local/bin/devbox-info root:root 755
# ~/.bashrc of the dev user (deployed once; your edits are kept).
sudo
starship 0.0.0 (offline stand-in)
git version
@biomejs/biome@1.8.3
prettier@3.3.2
typescript@5.4.5
USERNAME dev
`)
	}
}

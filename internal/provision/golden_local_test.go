package provision

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// A golden image on the host: a root directory is provisioned once (the
// image's build), generalised, then given to two "clones" in turn. Each
// clone runs only the step that saved a credential, reports the other
// steps from the record the build left, and gets its own machine id, SSH
// host keys and secret.
func TestAgentLocalGoldenImage(t *testing.T) {
	for _, shell := range localShells(t) {
		t.Run(shell.name, func(t *testing.T) {
			g := newGoldenScenario(t, shell)
			buildSecret := g.build()
			g.generalize()
			first := g.clone(buildSecret)
			g.generalize()
			second := g.clone(buildSecret)
			if first.secret == second.secret || first.machineID == second.machineID {
				t.Errorf("two clones share a secret (%v) or a machine id (%v)", first.secret == second.secret, first.machineID == second.machineID)
			}
			if first.hostKey == second.hostKey {
				t.Error("two clones share an SSH host key")
			}
			if got := readFile(t, g.root+"/runs-expensive"); got != "run\n" {
				t.Errorf("the expensive step ran %d times, want once (in the image)", strings.Count(got, "run"))
			}
		})
	}
}

// goldenScenario is a container root on the host, with the files of an
// installed openssh-server and a Debian-like system.
type goldenScenario struct {
	t     *testing.T
	shell testShell
	root  string
	tmp   string
	spec  templatedir.Spec
}

func newGoldenScenario(t *testing.T, shell testShell) *goldenScenario {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed: a clone's SSH host keys cannot be generated here")
	}
	root := localRoot(t)
	g := &goldenScenario{t: t, shell: shell, root: root, tmp: t.TempDir()}
	g.spec = templatedir.Spec{
		Name: "golden",
		Scripts: []templatedir.Script{
			script("10-expensive.sh", "echo run >> "+root+"/runs-expensive\n"),
			script("20-secret.sh", "save_credential app SECRET \"$(generate_password 32)\"\necho run >> "+root+"/runs-secret\n"),
		},
		Files: []templatedir.File{file("app.conf", root+"/etc/app", templatedir.PolicyReplace, "0644", "a=1\n")},
	}
	writeFile(t, root+"/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444)
	writeFile(t, root+"/var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n", 0o644)
	writeFile(t, root+"/usr/sbin/sshd", "#!/bin/sh\n", 0o755)
	writeFile(t, root+"/etc/ssh/ssh_host_ed25519_key", "image key\n", 0o600)
	writeFile(t, root+"/etc/ssh/ssh_host_ed25519_key.pub", "image key\n", 0o644)
	writeFile(t, root+"/var/lib/apt/lists/deb_dists_bookworm_InRelease", "index\n", 0o644)
	writeFile(t, root+"/var/lib/apt/lists/partial/half", "half\n", 0o644)
	writeFile(t, root+"/var/lib/systemd/random-seed", "seed\n", 0o600)
	return g
}

// env points the agent at the scenario's root, record and credentials.
func (g *goldenScenario) env() []string {
	return []string{"LXCTM_ROOT=" + g.root, "LXCTM_RECORD_FILE=" + g.root + "/etc/lxctm/provisioned",
		"LXCTM_CREDENTIALS_DIR=" + g.root + "/etc/lxctm/credentials"}
}

// build provisions the image: every step runs once, the record lists them
// all and the secret-saving script is reported as such.
func (g *goldenScenario) build() string {
	t := g.t
	t.Helper()
	res := runLocal(t, g.shell, newRun(t, Request{Spec: g.spec, Create: true, Hostname: "golden-image"}), g.tmp, g.env()...)
	if res.exit != 0 || res.rep.Err() != nil {
		t.Fatalf("build: exit %d, %v\n%s\n%s", res.exit, res.rep.Err(), res.stdout, res.stderr)
	}
	if got := res.rep.CredentialSteps(); !slices.Equal(got, []string{ScriptKey("20-secret.sh")}) {
		t.Errorf("steps that saved credentials: %v", got)
	}
	if got, want := g.record(), Desired(g.spec); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("provisioning record:\n%v\nwant:\n%v", got, want)
	}
	return res.rep.Credentials["app"]["SECRET"]
}

// record reads the provisioning record the agent wrote.
func (g *goldenScenario) record() map[string]string {
	g.t.Helper()
	out := map[string]string{}
	for line := range strings.Lines(readFile(g.t, g.root+"/etc/lxctm/provisioned")) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		key, digest, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if !ok {
			g.t.Fatalf("record line %q", line)
		}
		out[key] = digest
	}
	return out
}

// generalize strips the root the way GeneralizeArgv strips an image.
func (g *goldenScenario) generalize() {
	t := g.t
	t.Helper()
	argv := GeneralizeArgv()
	cmd := exec.Command(g.shell.sh, argv[1:]...) //nolint:gosec // the test's own script
	cmd.Env = append([]string{"PATH=" + g.shell.path}, g.env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("generalize: %v\n%s", err, out)
	}
	if got := readFile(t, g.root+"/etc/machine-id"); got != "" {
		t.Errorf("machine id after generalize: %q", got)
	}
	if target, err := os.Readlink(g.root + "/var/lib/dbus/machine-id"); err != nil || target != "/etc/machine-id" {
		t.Errorf("/var/lib/dbus/machine-id: link to %q (%v), want /etc/machine-id", target, err)
	}
	for _, gone := range []string{"/etc/lxctm/credentials", "/var/lib/systemd/random-seed", "/var/lib/apt/lists/deb_dists_bookworm_InRelease",
		"/var/lib/apt/lists/partial/half", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub"} {
		if _, err := os.Lstat(g.root + gone); !os.IsNotExist(err) {
			t.Errorf("%s is still there after generalize (%v)", gone, err)
		}
	}
	if _, err := os.Stat(g.root + "/var/lib/apt/lists/partial"); err != nil {
		t.Errorf("apt's partial directory should stay: %v", err)
	}
	if len(g.record()) != len(Desired(g.spec)) {
		t.Error("generalize changed the provisioning record")
	}
	if !strings.Contains(string(out), "[generalize] emptied /etc/machine-id") {
		t.Errorf("generalize output:\n%s", out)
	}
}

// cloneResult is what identifies one clone.
type cloneResult struct{ secret, machineID, hostKey string }

// clone runs a clone's first run on the generalised root.
func (g *goldenScenario) clone(buildSecret string) cloneResult {
	t := g.t
	t.Helper()
	run, err := NewRun(Request{Spec: g.spec, Hostname: "golden-clone", Clone: &Clone{Rerun: []string{ScriptKey("20-secret.sh")}}})
	if err != nil {
		t.Fatal(err)
	}
	res := runLocal(t, g.shell, run, g.tmp, g.env()...)
	if res.exit != 0 || res.rep.Err() != nil {
		t.Fatalf("clone: exit %d, %v\n%s\n%s", res.exit, res.rep.Err(), res.stdout, res.stderr)
	}
	for _, s := range res.rep.Steps {
		want := StatusSkipped
		if s.Step == ScriptKey("20-secret.sh") {
			want = StatusOK
		}
		if s.Status != want {
			t.Errorf("clone: %s is %s (%s), want %s", s.Step, s.Status, s.Message, want)
		}
	}
	if got := run.Provisioned(res.rep); fmt.Sprint(got) != fmt.Sprint(Desired(g.spec)) {
		t.Errorf("a clone's provisioned:\n%v\nwant:\n%v", got, Desired(g.spec))
	}
	secret := res.rep.Credentials["app"]["SECRET"]
	if len(secret) != 32 || secret == buildSecret {
		t.Errorf("the clone's secret %q: want 32 characters, not the image's", secret)
	}
	machineID := strings.TrimSpace(readFile(t, g.root+"/etc/machine-id"))
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(machineID) || machineID == "0123456789abcdef0123456789abcdef" {
		t.Errorf("the clone's machine id %q", machineID)
	}
	keys, _ := filepath.Glob(g.root + "/etc/ssh/ssh_host_*_key")
	if len(keys) == 0 {
		t.Fatal("the clone has no SSH host keys")
	}
	if !slices.ContainsFunc(res.progress, func(l string) bool { return strings.Contains(l, "generated new SSH host keys") }) {
		t.Errorf("progress does not say the host keys were made:\n%s", strings.Join(res.progress, "\n"))
	}
	return cloneResult{secret: secret, machineID: machineID, hostKey: readFile(t, g.root+"/etc/ssh/ssh_host_ed25519_key.pub")}
}

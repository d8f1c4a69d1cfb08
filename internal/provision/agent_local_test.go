package provision

import (
	"encoding/base64"
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

// The agent runs on the host here, with dash and with bash as /bin/sh, on
// files under a temporary directory: file policies, ownership, scripts,
// helpers, custom installers, re-runs, drift checks, failures and the
// JSON stream. Package managers and services are covered by the LXC tests.

// localRoot is a temporary directory that plays the container's root.
func localRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// localSpec is a template exercising every file policy, ownership from the
// target directory, scripts with helpers and a custom installer with a pipe.
func localSpec(root string) templatedir.Spec {
	binary := []byte{0x7f, 'E', 'L', 'F', 0, 1, 2, 0xff, 0xfe}
	return templatedir.Spec{
		Name: "local-test",
		Packages: []templatedir.Package{
			custom("tools", "pipe-tool", "test -f "+root+"/pipe-tool", "printf 'built\\n' | tee "+root+"/pipe-tool", 30),
		},
		Scripts: []templatedir.Script{
			script("10-env.sh", `set -euo pipefail
log_info "hello from $TEMPLATE_NAME"
{
  echo "template=$TEMPLATE_NAME"
  echo "hostname=$CONTAINER_HOSTNAME"
  echo "os=$CONTAINER_OS"
  echo "pkgmgr=$_PKG_MGR"
  echo "frontend=$DEBIAN_FRONTEND"
  echo "lc_all=$LC_ALL"
  echo "path=$PATH"
  echo "args=$#"
  echo "pwd=$(pwd)"
} > `+root+`/env.txt
echo run >> `+root+`/runs-10
`),
			script("20-helpers.sh", `set -euo pipefail
pw="$(generate_password 24)"
[ "${#pw}" -eq 24 ] || { log_error "bad password length ${#pw}"; exit 1; }
save_credential demo-app ADMIN_PASSWORD "$pw"
save_credential demo-app USERNAME 'ad"min\x'
save_credential demo-app USERNAME 'admin'
is_installed sh
! is_installed no-such-command-here
wait_for_apt_lock
log_warn "careful"
echo "$pw" > `+root+`/password
echo run >> `+root+`/runs-20
`),
			script("30-last.sh", "echo run >> "+root+"/runs-30\n"),
		},
		Files: []templatedir.File{
			file("replace.conf", root+"/etc/app", templatedir.PolicyReplace, "0640", "replaced\n"),
			file("default.conf", root+"/etc/app", templatedir.PolicyDefault, "0644", "template default\n"),
			file("fresh-default.conf", root+"/etc/app", templatedir.PolicyDefault, "0644", "fresh\n"),
			file("backup.conf", root+"/etc/app", templatedir.PolicyBackup, "0644", "new version\n"),
			file("same.conf", root+"/etc/app", templatedir.PolicyReplace, "0644", "same\n"),
			file(".profile-extra", root+"/home/dev", templatedir.PolicyReplace, "0644", "export X=1\n"),
			file("settings.json", root+"/home/dev/.config/app", templatedir.PolicyReplace, "0600", "{}\n"),
			{Name: "tool", TargetPath: root + "/opt/bin", Policy: templatedir.PolicyReplace, Mode: "0755", ContentBase64: base64.StdEncoding.EncodeToString(binary)},
		},
	}
}

func TestAgentLocalApplyRerunAndDrift(t *testing.T) {
	for _, shell := range localShells(t) {
		t.Run(shell.name, func(t *testing.T) {
			sc := newLocalScenario(t, shell)
			applied := sc.create()
			changed, applied := sc.rerunOneScript(applied)
			check, observed := sc.drift(changed, applied)
			sc.repair(changed, check.Provisioned(observed))
		})
	}
}

// localScenario is a container root on the host that a template is
// applied to, re-applied after a change, checked for drift and repaired.
type localScenario struct {
	t     *testing.T
	shell testShell
	root  string
	tmp   string // the agent's TMPDIR
	creds string // LXCTM_CREDENTIALS_DIR
	spec  templatedir.Spec
}

// newLocalScenario prepares what the container has before provisioning:
// a user's home, and files the policies must respect.
func newLocalScenario(t *testing.T, shell testShell) *localScenario {
	t.Helper()
	root := localRoot(t)
	sc := &localScenario{t: t, shell: shell, root: root, tmp: t.TempDir(), creds: filepath.Join(root, "creds"), spec: localSpec(root)}
	writeFile(t, root+"/etc/app/default.conf", "edited by the user\n", 0o644)
	writeFile(t, root+"/etc/app/backup.conf", "old version\n", 0o644)
	writeFile(t, root+"/etc/app/same.conf", "same\n", 0o600)
	if err := os.MkdirAll(root+"/home/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(root+"/home/dev", 1234, 2345); err != nil {
		t.Fatal(err)
	}
	return sc
}

// run runs the agent for r in the scenario's root.
func (sc *localScenario) run(r *Run) localResult {
	sc.t.Helper()
	return runLocal(sc.t, sc.shell, r, sc.tmp, "LXCTM_CREDENTIALS_DIR="+sc.creds)
}

// create provisions the template for the first time and checks every
// effect; it returns what state keeps.
func (sc *localScenario) create() map[string]string {
	t, root := sc.t, sc.root
	t.Helper()
	run := newRun(t, Request{Spec: sc.spec, Create: true, Hostname: "ct-local"})
	res := sc.run(run)
	if res.exit != 0 || res.rep.Err() != nil {
		t.Fatalf("exit %d, err %v\nstdout:\n%s\nstderr:\n%s", res.exit, res.rep.Err(), res.stdout, res.stderr)
	}
	var order []string
	for _, s := range res.rep.Steps {
		order = append(order, s.Step)
	}
	if !slices.Equal(order, run.Steps()) {
		t.Errorf("reported steps %v, planned %v", order, run.Steps())
	}
	wantStatus := map[string]string{
		PackageKey("custom", "tools"):                         StatusChanged,
		ScriptKey("10-env.sh"):                                StatusOK,
		ScriptKey("20-helpers.sh"):                            StatusOK,
		FileKey(root + "/etc/app/replace.conf"):               StatusChanged,
		FileKey(root + "/etc/app/default.conf"):               StatusOK,
		FileKey(root + "/etc/app/fresh-default.conf"):         StatusChanged,
		FileKey(root + "/etc/app/backup.conf"):                StatusChanged,
		FileKey(root + "/etc/app/same.conf"):                  StatusChanged, // mode 0600 → 0644
		FileKey(root + "/home/dev/.profile-extra"):            StatusChanged,
		FileKey(root + "/home/dev/.config/app/settings.json"): StatusChanged,
		FileKey(root + "/opt/bin/tool"):                       StatusChanged,
	}
	for key, want := range wantStatus {
		if got := stepByKey(t, res.rep, key); got.Status != want {
			t.Errorf("%s: status %s (%s), want %s", key, got.Status, got.Message, want)
		}
	}
	sc.checkScriptEnvironment(res)
	sc.checkFiles()
	sc.checkCredentials(res)
	applied := run.Provisioned(res.rep)
	if fmt.Sprint(applied) != fmt.Sprint(Desired(sc.spec)) {
		t.Errorf("provisioned after create:\n%v\nwant Desired:\n%v", applied, Desired(sc.spec))
	}
	if entries, _ := os.ReadDir(sc.tmp); len(entries) != 0 {
		t.Errorf("the agent left %v in TMPDIR", entries)
	}
	return applied
}

// checkScriptEnvironment checks what the scripts saw and that their output
// and the custom installer's were streamed.
func (sc *localScenario) checkScriptEnvironment(res localResult) {
	t := sc.t
	t.Helper()
	envTxt := readFile(t, sc.root+"/env.txt")
	for _, want := range []string{
		"template=local-test\n", "hostname=ct-local\n", "frontend=noninteractive\n", "lc_all=C\n",
		"path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", "args=0\n",
	} {
		if !strings.Contains(envTxt, want) {
			t.Errorf("script environment lacks %q:\n%s", want, envTxt)
		}
	}
	if m := regexp.MustCompile(`pwd=(\S+)`).FindStringSubmatch(envTxt); m == nil || !strings.HasPrefix(m[1], sc.tmp+"/lxctm-agent.") {
		t.Errorf("scripts should run in a private directory under TMPDIR, got %q", envTxt)
	}
	logLine := regexp.MustCompile(`^\[script:10-env\.sh\] \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INFO   \] hello from local-test$`)
	if !slices.ContainsFunc(res.progress, logLine.MatchString) {
		t.Errorf("no log_info progress line in the expected format; progress:\n%s", strings.Join(res.progress, "\n"))
	}
	if !slices.Contains(res.progress, "[package:custom:tools] built") {
		t.Errorf("the custom installer's output was not streamed; progress:\n%s", strings.Join(res.progress, "\n"))
	}
}

// checkFiles checks the files' content, policies, modes and owners.
func (sc *localScenario) checkFiles() {
	t, root := sc.t, sc.root
	t.Helper()
	checkFile := func(path, content string, mode os.FileMode, uid, gid int) {
		t.Helper()
		if got := readFile(t, path); got != content {
			t.Errorf("%s: content %q, want %q", path, got, content)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		gotUID, gotGID, ok := fileOwner(info)
		if !ok {
			t.Fatalf("%s: the platform records no owner", path)
		}
		if info.Mode().Perm() != mode || gotUID != uid || gotGID != gid {
			t.Errorf("%s: mode %o owner %d:%d, want %o %d:%d", path, info.Mode().Perm(), gotUID, gotGID, mode, uid, gid)
		}
	}
	checkFile(root+"/etc/app/replace.conf", "replaced\n", 0o640, 0, 0)
	checkFile(root+"/etc/app/default.conf", "edited by the user\n", 0o644, 0, 0)
	checkFile(root+"/etc/app/fresh-default.conf", "fresh\n", 0o644, 0, 0)
	checkFile(root+"/etc/app/backup.conf", "new version\n", 0o644, 0, 0)
	checkFile(root+"/etc/app/same.conf", "same\n", 0o644, 0, 0)
	checkFile(root+"/home/dev/.profile-extra", "export X=1\n", 0o644, 1234, 2345)
	checkFile(root+"/home/dev/.config/app/settings.json", "{}\n", 0o600, 1234, 2345)
	checkFile(root+"/opt/bin/tool", string([]byte{0x7f, 'E', 'L', 'F', 0, 1, 2, 0xff, 0xfe}), 0o755, 0, 0)
	for _, dir := range []string{root + "/home/dev/.config", root + "/home/dev/.config/app"} {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if uid, gid, _ := fileOwner(info); uid != 1234 || gid != 2345 {
			t.Errorf("new directory %s is owned by %d:%d, want the home's 1234:2345", dir, uid, gid)
		}
	}
	backups, _ := filepath.Glob(root + "/etc/app/backup.conf.backup-*")
	if len(backups) != 1 || !regexp.MustCompile(`\.backup-\d{8}-\d{6}$`).MatchString(backups[0]) {
		t.Fatalf("backups: %v", backups)
	}
	if got := readFile(t, backups[0]); got != "old version\n" {
		t.Errorf("backup holds %q", got)
	}
	if leftovers, _ := filepath.Glob(root + "/etc/app/.lxctm.*"); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// checkCredentials checks that credentials are upserted, 0600 in a 0700
// directory, reported, and never shown in progress.
func (sc *localScenario) checkCredentials(res localResult) {
	t := sc.t
	t.Helper()
	password := strings.TrimSpace(readFile(t, sc.root+"/password"))
	want := map[string]map[string]string{"demo-app": {"ADMIN_PASSWORD": password, "USERNAME": "admin"}}
	if fmt.Sprint(res.rep.Credentials) != fmt.Sprint(want) {
		t.Errorf("credentials %v, want %v", res.rep.Credentials, want)
	}
	if got := readFile(t, sc.creds+"/demo-app"); got != "ADMIN_PASSWORD="+password+"\nUSERNAME=admin\n" {
		t.Errorf("credential file:\n%s", got)
	}
	if info, _ := os.Stat(sc.creds + "/demo-app"); info.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode %o", info.Mode().Perm())
	}
	if info, _ := os.Stat(sc.creds); info.Mode().Perm() != 0o700 {
		t.Errorf("credential directory mode %o", info.Mode().Perm())
	}
	for _, line := range res.progress {
		if strings.Contains(line, password) {
			t.Errorf("a progress line shows the password: %q", line)
		}
	}
}

// rerunOneScript changes one script and re-applies: only it runs. It
// returns the changed spec and what state keeps.
func (sc *localScenario) rerunOneScript(applied map[string]string) (templatedir.Spec, map[string]string) {
	t, root := sc.t, sc.root
	t.Helper()
	changed := sc.spec
	changed.Scripts = slices.Clone(sc.spec.Scripts)
	changed.Scripts[1] = script("20-helpers.sh", sc.spec.Scripts[1].Content+"echo changed >> "+root+"/runs-20\n")
	rerun := newRun(t, Request{Spec: changed, Applied: applied, Hostname: "ct-local"})
	if got := rerun.Steps(); !slices.Equal(got, []string{ScriptKey("20-helpers.sh")}) {
		t.Fatalf("rerun steps %v", got)
	}
	res := sc.run(rerun)
	if res.rep.Err() != nil {
		t.Fatalf("rerun: %v\n%s", res.rep.Err(), res.stdout)
	}
	for _, s := range res.rep.Steps {
		wantStatus := StatusSkipped
		if s.Step == ScriptKey("20-helpers.sh") {
			wantStatus = StatusOK
		}
		if s.Status != wantStatus || s.SHA256 != Desired(changed)[s.Step] {
			t.Errorf("rerun %s: status %s sha %s, want %s %s", s.Step, s.Status, s.SHA256, wantStatus, Desired(changed)[s.Step])
		}
	}
	if got := readFile(t, root+"/runs-10"); got != "run\n" {
		t.Errorf("10-env.sh ran again: %q", got)
	}
	if got := readFile(t, root+"/runs-20"); got != "run\nrun\nchanged\n" {
		t.Errorf("20-helpers.sh runs: %q", got)
	}
	return changed, rerun.Provisioned(res.rep)
}

// drift edits a replace file, removes a backup file and the custom tool,
// and edits the default file again (not drift), then checks: the check
// reports exactly the drifted steps and changes nothing.
func (sc *localScenario) drift(spec templatedir.Spec, applied map[string]string) (*Run, *Report) {
	t, root := sc.t, sc.root
	t.Helper()
	writeFile(t, root+"/etc/app/replace.conf", "tampered\n", 0o640)
	if err := os.Remove(root + "/etc/app/backup.conf"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(root + "/pipe-tool"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root+"/etc/app/default.conf", "edited again\n", 0o644)
	check := NewCheck(spec, applied)
	res := sc.run(check)
	if res.rep.Err() != nil {
		t.Fatalf("check: %v\n%s", res.rep.Err(), res.stdout)
	}
	if len(res.rep.Steps) != 0 {
		t.Errorf("a check applied steps: %+v", res.rep.Steps)
	}
	wantObserved := map[string]string{}
	for key, digest := range applied {
		if strings.HasPrefix(key, KindScript) || strings.Contains(key, "default.conf") {
			continue
		}
		wantObserved[key] = digest
	}
	wantObserved[FileKey(root+"/etc/app/replace.conf")] = FileDigest(sha256hex("tampered\n"), templatedir.PolicyReplace, "0640")
	wantObserved[FileKey(root+"/etc/app/backup.conf")] = ObservedMissing
	wantObserved[PackageKey("custom", "tools")] = "missing:pipe-tool"
	if fmt.Sprint(res.rep.Observed) != fmt.Sprint(wantObserved) {
		t.Errorf("observed:\n%v\nwant:\n%v", res.rep.Observed, wantObserved)
	}
	if got := readFile(t, root+"/etc/app/replace.conf"); got != "tampered\n" {
		t.Errorf("the check changed a file: %q", got)
	}
	return check, res.rep
}

// repair applies with the state a drift check left: exactly the drifted
// steps run, and the user's default file stays as it is.
func (sc *localScenario) repair(spec templatedir.Spec, applied map[string]string) {
	t, root := sc.t, sc.root
	t.Helper()
	repair := newRun(t, Request{Spec: spec, Applied: applied, Hostname: "ct-local"})
	wantSteps := []string{PackageKey("custom", "tools"), FileKey(root + "/etc/app/backup.conf"), FileKey(root + "/etc/app/replace.conf")}
	if got := repair.Steps(); !slices.Equal(got, wantSteps) {
		t.Fatalf("repair steps %v, want %v", got, wantSteps)
	}
	res := sc.run(repair)
	if res.rep.Err() != nil {
		t.Fatalf("repair: %v\n%s", res.rep.Err(), res.stdout)
	}
	if got := readFile(t, root+"/etc/app/replace.conf"); got != "replaced\n" {
		t.Errorf("replace.conf not restored: %q", got)
	}
	if got := readFile(t, root+"/etc/app/default.conf"); got != "edited again\n" {
		t.Errorf("the user's default.conf was touched: %q", got)
	}
	if fmt.Sprint(repair.Provisioned(res.rep)) != fmt.Sprint(Desired(spec)) {
		t.Errorf("provisioned after repair %v", repair.Provisioned(res.rep))
	}
}

func TestReadyArgvWithoutSystemd(t *testing.T) {
	argv := ReadyArgv()
	for _, shell := range localShells(t) {
		cmd := exec.Command(shell.sh, argv[1:]...) //nolint:gosec // the test's own command
		cmd.Env = []string{"PATH=" + shell.path}
		out, err := cmd.Output()
		if err != nil || string(out) != "ready\n" {
			t.Errorf("%s: %q, %v (this host has no systemd as init)", shell.name, out, err)
		}
	}
}

// TestAgentLocalAwkwardNames sends names with spaces, quotes, backslashes,
// non-ASCII characters and over 100 bytes (a PAX tar entry) through the
// tar, the steps file and the JSON results.
func TestAgentLocalAwkwardNames(t *testing.T) {
	for _, shell := range localShells(t) {
		t.Run(shell.name, func(t *testing.T) {
			root := localRoot(t)
			dir := root + `/dir with "quotes" and \back`
			longName := "10-" + strings.Repeat("long-", 25) + "déjà vu.sh"
			spec := templatedir.Spec{
				Name:     `tëmplate "x"`,
				Packages: []templatedir.Package{custom(`bücket "b"`, `tool "t"`, "true", "true", 0)},
				Scripts:  []templatedir.Script{script(longName, `printf '%s\n' "$0" > "`+root+`/name.txt"`+"\n")},
				Files:    []templatedir.File{file(`café "menu".conf`, dir, templatedir.PolicyReplace, "0644", "ok\n")},
			}
			run := newRun(t, Request{Spec: spec, Create: true, Hostname: `h "1"`})
			res := runLocal(t, shell, run, t.TempDir())
			if res.rep.Err() != nil {
				t.Fatalf("%v\n%s", res.rep.Err(), res.stdout)
			}
			var keys []string
			for _, s := range res.rep.Steps {
				keys = append(keys, s.Step)
			}
			if !slices.Equal(keys, run.Steps()) {
				t.Errorf("reported keys %q, want %q", keys, run.Steps())
			}
			if got := readFile(t, dir+`/café "menu".conf`); got != "ok\n" {
				t.Errorf("file content %q", got)
			}
			if got := readFile(t, root+"/name.txt"); got != longName+"\n" {
				t.Errorf("the script sees $0 = %q", got)
			}
			if fmt.Sprint(run.Provisioned(res.rep)) != fmt.Sprint(Desired(spec)) {
				t.Errorf("provisioned %q", run.Provisioned(res.rep))
			}
		})
	}
}

package provision

import (
	"encoding/base64"
	"errors"
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
			root := localRoot(t)
			tmp := t.TempDir()
			creds := filepath.Join(root, "creds")
			env := []string{"LXCTM_CREDENTIALS_DIR=" + creds}
			// What the container has before provisioning: a user's home, and
			// files the policies must respect.
			writeFile(t, root+"/etc/app/default.conf", "edited by the user\n", 0o644)
			writeFile(t, root+"/etc/app/backup.conf", "old version\n", 0o644)
			writeFile(t, root+"/etc/app/same.conf", "same\n", 0o600)
			if err := os.MkdirAll(root+"/home/dev", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(root+"/home/dev", 1234, 2345); err != nil {
				t.Fatal(err)
			}
			spec := localSpec(root)

			run := newRun(t, Request{Spec: spec, Create: true, Hostname: "ct-local"})
			res := runLocal(t, shell, run, tmp, env...)
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

			// Environment of scripts.
			envTxt := readFile(t, root+"/env.txt")
			for _, want := range []string{
				"template=local-test\n", "hostname=ct-local\n", "frontend=noninteractive\n", "lc_all=C\n",
				"path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", "args=0\n",
			} {
				if !strings.Contains(envTxt, want) {
					t.Errorf("script environment lacks %q:\n%s", want, envTxt)
				}
			}
			if m := regexp.MustCompile(`pwd=(\S+)`).FindStringSubmatch(envTxt); m == nil || !strings.HasPrefix(m[1], tmp+"/lxctm-agent.") {
				t.Errorf("scripts should run in a private directory under TMPDIR, got %q", envTxt)
			}
			logLine := regexp.MustCompile(`^\[script:10-env\.sh\] \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INFO   \] hello from local-test$`)
			if !slices.ContainsFunc(res.progress, logLine.MatchString) {
				t.Errorf("no log_info progress line in the expected format; progress:\n%s", strings.Join(res.progress, "\n"))
			}
			if !slices.Contains(res.progress, "[package:custom:tools] built") {
				t.Errorf("the custom installer's output was not streamed; progress:\n%s", strings.Join(res.progress, "\n"))
			}

			// Files: content, policies, modes, owners.
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

			// Credentials: upserted, 0600 in a 0700 directory, reported.
			password := strings.TrimSpace(readFile(t, root+"/password"))
			want := map[string]map[string]string{"demo-app": {"ADMIN_PASSWORD": password, "USERNAME": "admin"}}
			if fmt.Sprint(res.rep.Credentials) != fmt.Sprint(want) {
				t.Errorf("credentials %v, want %v", res.rep.Credentials, want)
			}
			if got := readFile(t, creds+"/demo-app"); got != "ADMIN_PASSWORD="+password+"\nUSERNAME=admin\n" {
				t.Errorf("credential file:\n%s", got)
			}
			if info, _ := os.Stat(creds + "/demo-app"); info.Mode().Perm() != 0o600 {
				t.Errorf("credential file mode %o", info.Mode().Perm())
			}
			if info, _ := os.Stat(creds); info.Mode().Perm() != 0o700 {
				t.Errorf("credential directory mode %o", info.Mode().Perm())
			}
			for _, line := range res.progress {
				if strings.Contains(line, password) {
					t.Errorf("a progress line shows the password: %q", line)
				}
			}
			applied := run.Provisioned(res.rep)
			if fmt.Sprint(applied) != fmt.Sprint(Desired(spec)) {
				t.Errorf("provisioned after create:\n%v\nwant Desired:\n%v", applied, Desired(spec))
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("the agent left %v in TMPDIR", entries)
			}

			// Re-run with one script changed: only it runs.
			changed := spec
			changed.Scripts = slices.Clone(spec.Scripts)
			changed.Scripts[1] = script("20-helpers.sh", spec.Scripts[1].Content+"echo changed >> "+root+"/runs-20\n")
			rerun := newRun(t, Request{Spec: changed, Applied: applied, Hostname: "ct-local"})
			if got := rerun.Steps(); !slices.Equal(got, []string{ScriptKey("20-helpers.sh")}) {
				t.Fatalf("rerun steps %v", got)
			}
			res = runLocal(t, shell, rerun, tmp, env...)
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
			applied = rerun.Provisioned(res.rep)

			// Drift: a replace file edited, a backup file removed, the custom
			// tool gone, the default file edited again (not drift).
			writeFile(t, root+"/etc/app/replace.conf", "tampered\n", 0o640)
			if err := os.Remove(root + "/etc/app/backup.conf"); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(root + "/pipe-tool"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, root+"/etc/app/default.conf", "edited again\n", 0o644)
			check := NewCheck(changed, applied)
			res = runLocal(t, shell, check, tmp, env...)
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
			replaceKey := FileKey(root + "/etc/app/replace.conf")
			wantObserved[replaceKey] = FileDigest(sha256hex("tampered\n"), templatedir.PolicyReplace, "0640")
			wantObserved[FileKey(root+"/etc/app/backup.conf")] = ObservedMissing
			wantObserved[PackageKey("custom", "tools")] = "missing:pipe-tool"
			if fmt.Sprint(res.rep.Observed) != fmt.Sprint(wantObserved) {
				t.Errorf("observed:\n%v\nwant:\n%v", res.rep.Observed, wantObserved)
			}
			if got := readFile(t, root+"/etc/app/replace.conf"); got != "tampered\n" {
				t.Errorf("the check changed a file: %q", got)
			}

			// The next apply repairs exactly the drifted steps.
			repair := newRun(t, Request{Spec: changed, Applied: check.Provisioned(res.rep), Hostname: "ct-local"})
			wantSteps := []string{PackageKey("custom", "tools"), FileKey(root + "/etc/app/backup.conf"), replaceKey}
			if got := repair.Steps(); !slices.Equal(got, wantSteps) {
				t.Fatalf("repair steps %v, want %v", got, wantSteps)
			}
			res = runLocal(t, shell, repair, tmp, env...)
			if res.rep.Err() != nil {
				t.Fatalf("repair: %v\n%s", res.rep.Err(), res.stdout)
			}
			if got := readFile(t, root+"/etc/app/replace.conf"); got != "replaced\n" {
				t.Errorf("replace.conf not restored: %q", got)
			}
			if got := readFile(t, root+"/etc/app/default.conf"); got != "edited again\n" {
				t.Errorf("the user's default.conf was touched: %q", got)
			}
			if fmt.Sprint(repair.Provisioned(res.rep)) != fmt.Sprint(Desired(changed)) {
				t.Errorf("provisioned after repair %v", repair.Provisioned(res.rep))
			}
		})
	}
}

func TestAgentLocalFailures(t *testing.T) {
	for _, shell := range localShells(t) {
		t.Run(shell.name+"/custom installer", func(t *testing.T) {
			root := localRoot(t)
			spec := templatedir.Spec{
				Name: "fail-custom",
				Packages: []templatedir.Package{
					custom("tools", "never", "test -f "+root+"/never", "echo trying; echo oops >&2", 30),
					custom("tools", "slow", "test -f "+root+"/slow", "sleep 5", 1),
					custom("tools", "works", "test -f "+root+"/works", "echo ok | tee "+root+"/works", 30),
				},
				Scripts: []templatedir.Script{script("10-after.sh", "touch "+root+"/script-ran\n")},
				Files:   []templatedir.File{file("f.conf", root+"/etc", templatedir.PolicyReplace, "0644", "x\n")},
			}
			res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
			if res.exit != 1 || res.rep.Interrupted {
				t.Fatalf("exit %d interrupted %v\n%s", res.exit, res.rep.Interrupted, res.stdout)
			}
			failed := res.rep.Failed
			if failed == nil || failed.Step != PackageKey("custom", "tools") || failed.Exit == 0 {
				t.Fatalf("failed step %+v", failed)
			}
			if !strings.Contains(failed.Message, "never") || !strings.Contains(failed.Message, "slow") || strings.Contains(failed.Message, "works") {
				t.Errorf("message %q should name the failed installers only", failed.Message)
			}
			tail := strings.Join(failed.OutputTail, "\n")
			for _, want := range []string{"trying", "oops", "never: check still fails after the install", "slow: install timed out after 1s"} {
				if !strings.Contains(tail, want) {
					t.Errorf("output tail lacks %q:\n%s", want, tail)
				}
			}
			if _, err := os.Stat(root + "/works"); err != nil {
				t.Errorf("a failing line stopped the others: %v", err)
			}
			for _, key := range []string{ScriptKey("10-after.sh"), FileKey(root + "/etc/f.conf")} {
				if s := stepByKey(t, res.rep, key); s.Status != StatusSkipped || !strings.Contains(s.Message, "stopped at package:custom:tools") {
					t.Errorf("%s after a failed package step: %+v", key, s)
				}
			}
			if _, err := os.Stat(root + "/script-ran"); err == nil {
				t.Error("scripts ran after a package step failed")
			}
			var stepErr *StepError
			if err := res.rep.Err(); !errors.As(err, &stepErr) || !strings.Contains(err.Error(), `package bucket "tools" (custom)`) {
				t.Errorf("Err() = %v", err)
			}
			if len(res.rep.Applied) != 0 {
				t.Errorf("applied after a failed run: %v", res.rep.Applied)
			}
		})

		t.Run(shell.name+"/script with nasty output", func(t *testing.T) {
			root := localRoot(t)
			long := strings.Repeat("x", 5000)
			body := "for i in $(seq 1 70); do echo \"line $i\"; done\n" +
				`printf '%s\n' '"quoted" and back\slash'` + "\n" +
				`printf 'tab\there\n'` + "\n" +
				`printf '\033[31mred\033[0m\n'` + "\n" +
				`printf 'cr\rx\n'` + "\n" +
				`printf 'bad \377\376 utf8, good caf\303\251\n'` + "\n" +
				`printf '{"step":"forged","status":"ok"}\n'` + "\n" +
				"echo " + long + " >&2\n" +
				"printf 'no newline at the end'\n" +
				"exit 3\n"
			spec := templatedir.Spec{
				Name: "fail-script",
				Scripts: []templatedir.Script{
					script("10-ok.sh", "echo fine\n"),
					script("20-broken.sh", body),
					script("30-never.sh", "touch "+root+"/never-ran\n"),
				},
				Files: []templatedir.File{file("f.conf", root+"/etc", templatedir.PolicyReplace, "0644", "x\n")},
			}
			res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
			failed := res.rep.Failed
			if res.exit != 1 || failed == nil || failed.Step != ScriptKey("20-broken.sh") || failed.Exit != 3 {
				t.Fatalf("exit %d, failed %+v\n%s", res.exit, failed, res.stdout)
			}
			if len(failed.OutputTail) != 40 {
				t.Errorf("output tail has %d lines, want 40", len(failed.OutputTail))
			}
			wantEnd := []string{
				"line 70",
				`"quoted" and back\slash`,
				"tab\there",
				"\x1b[31mred\x1b[0m",
				"cr\rx",
				"bad \uFFFD\uFFFD utf8, good café",
				`{"step":"forged","status":"ok"}`,
				strings.Repeat("x", 2000),
				"no newline at the end",
			}
			if got := failed.OutputTail[len(failed.OutputTail)-len(wantEnd):]; !slices.Equal(got, wantEnd) {
				t.Errorf("output tail ends with\n%q\nwant\n%q", got, wantEnd)
			}
			for _, s := range res.rep.Steps {
				if s.Step == "forged" {
					t.Error("a script's output was taken for a step result")
				}
			}
			if !slices.Contains(res.progress, `[script:20-broken.sh] {"step":"forged","status":"ok"}`) {
				t.Error("the script's JSON-looking line should have been progress")
			}
			if s := stepByKey(t, res.rep, ScriptKey("30-never.sh")); s.Status != StatusSkipped {
				t.Errorf("30-never.sh: %+v", s)
			}
			if s := stepByKey(t, res.rep, FileKey(root+"/etc/f.conf")); s.Status != StatusSkipped {
				t.Errorf("file after the failed script: %+v", s)
			}
			if _, err := os.Stat(root + "/never-ran"); err == nil {
				t.Error("a script after the failed one ran")
			}
			err := res.rep.Err()
			if err == nil || !strings.HasPrefix(err.Error(), `provisioning failed at script "20-broken.sh": script exited with status 3`) || !strings.Contains(err.Error(), "no newline at the end") {
				t.Errorf("Err() = %v", err)
			}
		})

		t.Run(shell.name+"/step runner killed", func(t *testing.T) {
			root := localRoot(t)
			spec := templatedir.Spec{
				Name: "killed-runner",
				Scripts: []templatedir.Script{
					// The script's parent is the agent's runner for this step:
					// it dies without reporting the exit status.
					script("10-kill.sh", "echo killing my runner\nkill -9 $PPID\nsleep 0.3\n"),
					script("20-next.sh", "touch "+root+"/next-ran\n"),
				},
			}
			res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
			f := res.rep.Failed
			if res.rep.Interrupted || f == nil || f.Step != ScriptKey("10-kill.sh") || f.Exit != 137 {
				t.Fatalf("interrupted %v, failed %+v\n%s", res.rep.Interrupted, f, res.stdout)
			}
			if s := stepByKey(t, res.rep, ScriptKey("20-next.sh")); s.Status != StatusSkipped {
				t.Errorf("20-next.sh: %+v", s)
			}
		})

		t.Run(shell.name+"/background process keeps its output open", func(t *testing.T) {
			root := localRoot(t)
			spec := templatedir.Spec{
				Name: "daemon",
				Scripts: []templatedir.Script{script("10-daemon.sh",
					"sleep 60 &\necho $! > "+root+"/daemon.pid\necho started\n")},
			}
			res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
			var pid int
			if data, err := os.ReadFile(root + "/daemon.pid"); err == nil {
				_, _ = fmt.Sscan(string(data), &pid)
			}
			if pid <= 0 {
				t.Fatalf("the script did not start its daemon\n%s", res.stdout)
			}
			// The agent's output ended while the daemon still runs: the daemon
			// did not inherit the agent's stdout.
			alive := processAlive(pid)
			killProcess(pid)
			if !alive {
				t.Error("the agent's output only ended when the script's background process exited")
			}
			if res.rep.Err() != nil {
				t.Fatalf("%v\n%s", res.rep.Err(), res.stdout)
			}
		})
	}
}

func TestAgentLocalInterruptedAndFatal(t *testing.T) {
	for _, shell := range localShells(t) {
		t.Run(shell.name+"/killed mid-run", func(t *testing.T) {
			tmp := t.TempDir()
			spec := templatedir.Spec{
				Name: "cut",
				Scripts: []templatedir.Script{
					script("10-quick.sh", "echo quick\n"),
					script("20-slow.sh", "echo about-to-be-cut\nsleep 30\n"),
				},
			}
			run := newRun(t, Request{Spec: spec, Create: true})
			argv := run.Argv()
			stdin, err := run.Stdin()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(shell.sh, argv[1:]...) //nolint:gosec // the test's own agent
			cmd.Env = []string{"PATH=" + shell.path, "TMPDIR=" + tmp}
			cmd.Stdin = stdin
			ownProcessGroup(cmd)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			rep, err := ParseReport(out, func(line string) {
				if strings.HasSuffix(line, "about-to-be-cut") {
					// The connection drops: the whole process group goes.
					terminateProcessGroup(cmd)
				}
			})
			_ = cmd.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Interrupted || rep.Failed != nil {
				t.Fatalf("interrupted %v failed %+v", rep.Interrupted, rep.Failed)
			}
			if err := rep.Err(); !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), `after script "10-quick.sh"`) {
				t.Errorf("Err() = %v", err)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("the agent's work directory was not removed on SIGTERM: %v", entries)
			}
			// State keeps what was done and knows nothing of the cut step.
			prov := run.Provisioned(rep)
			if _, ok := prov[ScriptKey("20-slow.sh")]; ok || prov[ScriptKey("10-quick.sh")] == "" {
				t.Errorf("provisioned after a cut run: %v", prov)
			}
		})
	}

	shell := localShells(t)[0]
	for _, tc := range []struct {
		name, stdin, want string
	}{
		{"empty stdin", "", "no manifest on stdin"},
		{"not a manifest", "hello\n", "does not start with an LXCTM-AGENT header"},
		{"other protocol", "LXCTM-AGENT 99 2\n{}\n", "protocol 99 is not 1"},
		{"short manifest", "LXCTM-AGENT 1 10\n{}\n", "the manifest has 2 bytes, the header announced 10"},
		{"no tar", "LXCTM-AGENT 1 2\n{}\n", "cannot unpack the payload: tar: This does not look like a tar archive"},
	} {
		t.Run("fatal/"+tc.name, func(t *testing.T) {
			cmd := exec.Command(shell.sh, "-c", agentScript, "lxctm-agent") //nolint:gosec // the test's own agent
			cmd.Env = []string{"PATH=" + shell.path, "TMPDIR=" + t.TempDir()}
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stdout strings.Builder
			cmd.Stdout = &stdout
			err := cmd.Run()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
				t.Errorf("exit: %v", err)
			}
			rep, err := ParseReport(strings.NewReader(stdout.String()), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rep.Fatal, tc.want) || rep.Interrupted {
				t.Errorf("fatal %q (interrupted %v), want %q", rep.Fatal, rep.Interrupted, tc.want)
			}
			if err := rep.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Err() = %v", err)
			}
		})
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

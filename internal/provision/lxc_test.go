package provision

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// customLine parses a .custom line the way template directories do.
func customLine(t testing.TB, bucket, line string) templatedir.Package {
	t.Helper()
	p, err := templatedir.ValidatePackageSpec(templatedir.ManagerCustom, line)
	if err != nil {
		t.Fatal(err)
	}
	p.Bucket = bucket
	return p
}

// lxcSpec is the acceptance template: apt packages from the local
// repository (one already in the image), a pip and an npm package, a
// custom installer with a pipe, a script creating a user, one using the
// helpers, one installing a systemd service on a TCP port, and files with
// every policy including a dotfile in the new user's home.
func lxcSpec(t testing.TB) templatedir.Spec {
	t.Helper()
	return templatedir.Spec{
		Name: "lxc-acceptance",
		Packages: []templatedir.Package{
			pkg(t, "apt", "base", "curl"),         // in the image already
			pkg(t, "apt", "base", "awk"),          // virtual, provided by mawk in the image
			pkg(t, "apt", "base", "hello=2.10-*"), // a glob pin
			pkg(t, "apt", "base", "pv"),
			pkg(t, "apt", "more", "tree"),
			pkg(t, "pip", "py", "lxctm-demo==1.0.0"),
			pkg(t, "npm", "js", "lxctm-demo-js@2.0.0"),
			customLine(t, "tools", `demo-tool|test -x /usr/local/bin/demo-tool|printf '#!/bin/sh\necho demo-tool works\n' | tee /usr/local/bin/demo-tool >/dev/null && chmod 0755 /usr/local/bin/demo-tool|60`),
		},
		Scripts: []templatedir.Script{
			script("10-create-user.sh", `#!/usr/bin/env bash
set -euo pipefail
if id -u dev >/dev/null 2>&1; then
  log_info "User dev already exists"
else
  useradd -m -s /bin/bash dev
  log_info "Created user dev"
fi
echo 10 >> /var/log/lxctm-test-runs
`),
			script("20-helpers.sh", `#!/usr/bin/env bash
set -euo pipefail
log_info "container user is $CONTAINER_USER on $CONTAINER_OS $CONTAINER_OS_VERSION ($_PKG_MGR)"
ensure_installed ncdu
ensure_installed hello
run_as_user sh -c 'id -un; echo "$HOME"; pwd' > /root/run-as-user.txt
if ! grep -qs '^PASSWORD=' /etc/lxctm/credentials/lxctm-web; then
  save_credential lxctm-web USERNAME admin
  save_credential lxctm-web PASSWORD "$(generate_password 20)"
fi
echo 20 >> /var/log/lxctm-test-runs
`),
			script("30-service.sh", `#!/usr/bin/env bash
set -euo pipefail
mkdir -p /srv/web
echo "hello from the service" > /srv/web/index.html
cat > /etc/systemd/system/lxctm-web.service <<'UNIT'
[Unit]
Description=lxctm test web server
After=network.target

[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --bind 0.0.0.0 --directory /srv/web

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now lxctm-web.service
for i in $(seq 1 50); do
  if ss -Htln | grep -q ':8080 '; then break; fi
  sleep 0.1
done
echo 30 >> /var/log/lxctm-test-runs
`),
		},
		Files: []templatedir.File{
			file("app.conf", "/etc/lxctm-test", templatedir.PolicyReplace, "0640", "managed=true\n"),
			file("default.conf", "/etc/lxctm-test", templatedir.PolicyDefault, "0644", "template default\n"),
			file("backup.conf", "/etc/lxctm-test", templatedir.PolicyBackup, "0644", "new version\n"),
			file(".devrc", "/home/dev", templatedir.PolicyReplace, "0600", "export DEV=1\n"),
			file("tool.sh", "/home/dev/.local/bin", templatedir.PolicyReplace, "0755", "#!/bin/sh\necho tool\n"),
		},
	}
}

func TestProvisionInLXC(t *testing.T) {
	lxctest.Require(t)
	started := time.Now()
	env := newLXCEnv(t, lxctest.LocalRepoConfig{
		AptPackages: []string{"hello", "pv", "tree", "ncdu"},
		PipPackages: []lxctest.PipPackage{{Name: "lxctm-demo", Version: "1.0.0"}},
		NpmPackages: []lxctest.NpmPackage{{Name: "lxctm-demo-js", Version: "2.0.0"}},
	})
	ct := env.startCT(t, 171)
	t.Logf("backend, repository and container ready in %s", time.Since(started).Round(time.Millisecond))
	// What the container holds before provisioning.
	ct.sh(t, `mkdir -p /etc/lxctm-test && echo 'edited by the user' > /etc/lxctm-test/default.conf && echo 'old version' > /etc/lxctm-test/backup.conf`)

	sc := &lxcScenario{env: env, ct: ct, spec: lxcSpec(t)}
	t.Run("create", sc.create)
	if sc.applied == nil {
		t.FailNow()
	}
	t.Run("one script changed", sc.oneScriptChanged)
	t.Run("drift detected and repaired", sc.driftRepaired)
	t.Run("failing custom installer", sc.failingCustomInstaller)
	t.Run("failing script", sc.failingScript)
}

// lxcScenario is the acceptance template provisioned in one container,
// phase after phase: spec and applied are what the last phase left.
type lxcScenario struct {
	env     *lxcEnv
	ct      *lxcCT
	spec    templatedir.Spec
	applied map[string]string
}

// create provisions the template in one exec and checks every effect.
func (sc *lxcScenario) create(t *testing.T) {
	ct, spec := sc.ct, sc.spec
	begin := time.Now()
	run := newRun(t, Request{Spec: spec, Create: true, Hostname: "ct171"})
	p := ct.provision(t, run)
	t.Logf("full provisioning: %s", time.Since(begin).Round(time.Millisecond))
	if p.exit != 0 || p.rep.Err() != nil {
		logProgress(t, p)
		t.Fatalf("exit %d: %v", p.exit, p.rep.Err())
	}
	if p.execs != 1 {
		t.Errorf("provisioning took %d execs, want 1", p.execs)
	}
	for key, want := range map[string]string{
		"package:apt:base": StatusChanged, "package:apt:more": StatusChanged, "package:npm:js": StatusChanged,
		"package:pip:py": StatusChanged, "package:custom:tools": StatusChanged,
		"script:10-create-user.sh": StatusOK, "script:20-helpers.sh": StatusOK, "script:30-service.sh": StatusOK,
		"file:/etc/lxctm-test/app.conf": StatusChanged, "file:/etc/lxctm-test/default.conf": StatusOK,
		"file:/etc/lxctm-test/backup.conf": StatusChanged, "file:/home/dev/.devrc": StatusChanged,
		"file:/home/dev/.local/bin/tool.sh": StatusChanged,
	} {
		if got := stepByKey(t, p.rep, key); got.Status != want {
			t.Errorf("%s: %s (%s), want %s", key, got.Status, got.Message, want)
		}
	}
	if msg := stepByKey(t, p.rep, "package:apt:base").Message; msg != "installed hello=2.10-* pv" {
		t.Errorf("apt base: %q (curl was in the image already)", msg)
	}

	sc.checkPackages(t)
	sc.checkScripts(t, p)
	sc.checkFiles(t)
	sc.checkDiscovery(t, p)
	applied := run.Provisioned(p.rep)
	if fmt.Sprint(applied) != fmt.Sprint(Desired(spec)) {
		t.Errorf("provisioned %v\nwant %v", applied, Desired(spec))
	}
	sc.applied = applied
}

// checkPackages: apt, pip, npm and custom packages are installed, from the
// local repository.
func (sc *lxcScenario) checkPackages(t *testing.T) {
	ct, env := sc.ct, sc.env
	ct.sh(t, `for p in hello pv tree ncdu; do dpkg-query -W -f='${db:Status-Abbrev}\n' $p | grep -q '^ii' || { echo "$p missing"; exit 1; }; done`)
	if got := ct.sh(t, `python3 -c 'import lxctm_demo; print(lxctm_demo.VERSION)'`); got != "1.0.0\n" {
		t.Errorf("pip package: %q", got)
	}
	if got := ct.sh(t, `node -e 'console.log(require("/usr/local/lib/node_modules/lxctm-demo-js").version)'`); got != "2.0.0\n" {
		t.Errorf("npm package: %q", got)
	}
	if got := ct.sh(t, `demo-tool`); got != "demo-tool works\n" {
		t.Errorf("custom installer: %q", got)
	}
	served := strings.Join(env.repo.Served(), "\n")
	for _, want := range []string{"GET /apt/hello_", "GET /pypi/files/lxctm_demo-1.0.0-py3-none-any.whl 200", "GET /npm/lxctm-demo-js 200"} {
		if !strings.Contains(served, want) {
			t.Errorf("the local repository never answered %q", want)
		}
	}
}

// checkScripts: the scripts ran once each, in order, with the helpers and
// their environment.
func (sc *lxcScenario) checkScripts(t *testing.T, p provisioned) {
	ct := sc.ct
	if got := ct.sh(t, `cat /var/log/lxctm-test-runs`); got != "10\n20\n30\n" {
		t.Errorf("script runs: %q", got)
	}
	if got := ct.sh(t, `cat /root/run-as-user.txt`); got != "dev\n/home/dev\n/home/dev\n" {
		t.Errorf("run_as_user: %q", got)
	}
	if !slices.ContainsFunc(p.progress, func(l string) bool {
		return strings.HasPrefix(l, "[script:20-helpers.sh] [") && strings.HasSuffix(l, "] [INFO   ] container user is dev on debian 12 (apt)")
	}) {
		logProgress(t, p)
		t.Error("no log_info line with the script environment")
	}
}

// checkFiles: content, owner (from the target directory), mode, policies.
func (sc *lxcScenario) checkFiles(t *testing.T) {
	ct := sc.ct
	got := ct.sh(t, `cd /etc/lxctm-test && for f in app.conf default.conf backup.conf /home/dev/.devrc /home/dev/.local/bin/tool.sh /home/dev/.local /home/dev/.local/bin; do stat -c '%n %U:%G %a' $f; done; cat app.conf default.conf backup.conf backup.conf.backup-*; ls backup.conf.backup-* | wc -l`)
	want := `app.conf root:root 640
default.conf root:root 644
backup.conf root:root 644
/home/dev/.devrc dev:dev 600
/home/dev/.local/bin/tool.sh dev:dev 755
/home/dev/.local dev:dev 755
/home/dev/.local/bin dev:dev 755
managed=true
edited by the user
new version
old version
1
`
	if got != want {
		t.Errorf("files:\n%s\nwant:\n%s", got, want)
	}
}

// checkDiscovery: the template's service with its port and URL, no base
// services, and the saved credentials.
func (sc *lxcScenario) checkDiscovery(t *testing.T, p provisioned) {
	ct, env := sc.ct, sc.env
	t.Logf("services: %+v", p.rep.Services)
	ip := containerIP(t, env, ct.vmid)
	var web *Service
	for i, s := range p.rep.Services {
		if s.Name == "lxctm-web" {
			web = &p.rep.Services[i]
		}
		if strings.HasPrefix(s.Name, "systemd-") || strings.Contains(s.Name, "getty") {
			t.Errorf("base service %s reported", s.Name)
		}
	}
	if web == nil || web.Port != 8080 || web.URL != "http://"+ip+":8080" {
		t.Fatalf("services %+v, want lxctm-web on 8080 at %s", p.rep.Services, ip)
	}
	resp, err := lxctest.GetFromHost(web.URL)
	if err != nil || !strings.Contains(resp, "hello from the service") {
		t.Errorf("GET %s: %q, %v", web.URL, resp, err)
	}
	password := strings.TrimPrefix(strings.TrimSpace(ct.sh(t, `grep '^PASSWORD=' /etc/lxctm/credentials/lxctm-web`)), "PASSWORD=")
	if len(password) != 20 || fmt.Sprint(p.rep.Credentials) != fmt.Sprint(map[string]map[string]string{"lxctm-web": {"PASSWORD": password, "USERNAME": "admin"}}) {
		t.Errorf("credentials %v (file has %q)", p.rep.Credentials, password)
	}
	if got := ct.sh(t, `stat -c '%a' /etc/lxctm/credentials /etc/lxctm/credentials/lxctm-web`); got != "700\n600\n" {
		t.Errorf("credential modes %q", got)
	}
}

// oneScriptChanged: only the changed script runs, in one exec.
func (sc *lxcScenario) oneScriptChanged(t *testing.T) {
	ct, spec, applied := sc.ct, sc.spec, sc.applied
	changed := spec
	changed.Scripts = slices.Clone(spec.Scripts)
	changed.Scripts[1] = script("20-helpers.sh", spec.Scripts[1].Content+"log_info changed\n")
	run := newRun(t, Request{Spec: changed, Applied: applied, Hostname: "ct171"})
	if got := run.Steps(); !slices.Equal(got, []string{"script:20-helpers.sh"}) {
		t.Fatalf("steps %v", got)
	}
	p := ct.provision(t, run)
	if p.rep.Err() != nil || p.execs != 1 {
		logProgress(t, p)
		t.Fatalf("%v (%d execs)", p.rep.Err(), p.execs)
	}
	if got := ct.sh(t, `cat /var/log/lxctm-test-runs`); got != "10\n20\n30\n20\n" {
		t.Errorf("script runs: %q", got)
	}
	sc.spec, sc.applied = changed, run.Provisioned(p.rep)
}

// driftRepaired: a check reports a tampered file and a removed package
// (not the user's default file), and the next apply repairs exactly them.
func (sc *lxcScenario) driftRepaired(t *testing.T) {
	ct, spec, applied := sc.ct, sc.spec, sc.applied
	ct.sh(t, `echo tampered > /etc/lxctm-test/app.conf && echo 'edited again' > /etc/lxctm-test/default.conf && apt-get remove -y -q tree >/dev/null`)
	check := NewCheck(spec, applied)
	p := ct.provision(t, check)
	if p.rep.Err() != nil || len(p.rep.Steps) != 0 || p.execs != 1 {
		logProgress(t, p)
		t.Fatalf("check: %v, steps %v, %d execs", p.rep.Err(), p.rep.Steps, p.execs)
	}
	var drifted []string
	for key, digest := range p.rep.Observed {
		if applied[key] != digest {
			drifted = append(drifted, key+"="+digest)
		}
	}
	slices.Sort(drifted)
	wantDrift := []string{
		"file:/etc/lxctm-test/app.conf=" + FileDigest(sha256hex("tampered\n"), "replace", "0640"),
		"package:apt:more=missing:tree",
	}
	if !slices.Equal(drifted, wantDrift) {
		t.Errorf("drift %v, want %v", drifted, wantDrift)
	}
	if _, ok := p.rep.Observed["file:/etc/lxctm-test/default.conf"]; ok {
		t.Error("a default file is the user's: it must not be checked")
	}
	if len(p.rep.Services) == 0 || len(p.rep.Credentials) == 0 {
		t.Errorf("a check also discovers: services %v credentials %v", p.rep.Services, p.rep.Credentials)
	}

	repair := newRun(t, Request{Spec: spec, Applied: check.Provisioned(p.rep), Hostname: "ct171"})
	if got := repair.Steps(); !slices.Equal(got, []string{"package:apt:more", "file:/etc/lxctm-test/app.conf"}) {
		t.Fatalf("repair steps %v", got)
	}
	p = ct.provision(t, repair)
	if p.rep.Err() != nil {
		logProgress(t, p)
		t.Fatal(p.rep.Err())
	}
	if got := ct.sh(t, `cat /etc/lxctm-test/app.conf /etc/lxctm-test/default.conf; command -v tree`); got != "managed=true\nedited again\n/usr/bin/tree\n" {
		t.Errorf("after repair: %q", got)
	}
	sc.applied = repair.Provisioned(p.rep)
}

// failingCustomInstaller: a failing custom installer fails its bucket, the
// bucket's other row is installed, and the scripts after it do not run.
func (sc *lxcScenario) failingCustomInstaller(t *testing.T) {
	ct, spec, applied := sc.ct, sc.spec, sc.applied
	broken := spec
	broken.Packages = append(slices.Clone(spec.Packages),
		customLine(t, "broken", "never|false|echo installing never; true|30"),
		customLine(t, "broken", "fine|test -f /root/fine|touch /root/fine"))
	broken.Scripts = append(slices.Clone(spec.Scripts), script("40-after.sh", "touch /root/after-ran\n"))
	run := newRun(t, Request{Spec: broken, Applied: applied})
	if got := run.Steps(); !slices.Equal(got, []string{"package:custom:broken", "script:40-after.sh"}) {
		t.Fatalf("steps %v", got)
	}
	p := ct.provision(t, run)
	if p.exit != 1 || p.rep.Failed == nil || p.rep.Failed.Step != "package:custom:broken" {
		logProgress(t, p)
		t.Fatalf("exit %d failed %+v", p.exit, p.rep.Failed)
	}
	if !strings.Contains(strings.Join(p.rep.Failed.OutputTail, "\n"), "never: check still fails after the install") {
		t.Errorf("tail %q", p.rep.Failed.OutputTail)
	}
	ct.sh(t, `test -f /root/fine && ! test -e /root/after-ran`)
	prov := run.Provisioned(p.rep)
	if _, ok := prov["package:custom:broken"]; ok {
		t.Error("a failed bucket must not be recorded as applied")
	}
	if _, ok := prov["script:40-after.sh"]; ok {
		t.Error("a script that did not run must not be recorded as applied")
	}
}

// failingScript: a failing script stops the run, with its last 40 output
// lines, before later scripts and files.
func (sc *lxcScenario) failingScript(t *testing.T) {
	ct, spec, applied := sc.ct, sc.spec, sc.applied
	broken := spec
	broken.Scripts = append(slices.Clone(spec.Scripts),
		script("50-broken.sh", "#!/usr/bin/env bash\nset -euo pipefail\nlog_info 'about to fail'\nfor i in $(seq 1 60); do echo \"progress $i\"; done\necho 'cannot continue' >&2\nfalse\necho unreachable\n"),
		script("60-later.sh", "touch /root/later-ran\n"))
	broken.Files = append(slices.Clone(spec.Files), file("late.conf", "/etc/lxctm-test", "replace", "0644", "late\n"))
	p := ct.provision(t, newRun(t, Request{Spec: broken, Applied: applied}))
	f := p.rep.Failed
	if f == nil || f.Step != "script:50-broken.sh" || f.Exit != 1 || len(f.OutputTail) != 40 || f.OutputTail[39] != "cannot continue" {
		logProgress(t, p)
		t.Fatalf("failed %+v", f)
	}
	err := p.rep.Err()
	if err == nil || !strings.HasPrefix(err.Error(), `provisioning failed at script "50-broken.sh": script exited with status 1`) {
		t.Errorf("Err() = %v", err)
	}
	ct.sh(t, `! test -e /root/later-ran && ! test -e /etc/lxctm-test/late.conf`)
}

// containerIP is the container's IPv4 address as the API reports it.
func containerIP(t testing.TB, env *lxcEnv, vmid int) string {
	t.Helper()
	ifaces, err := env.b.Interfaces(context.Background(), vmid)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifaces {
		if i.Name != "lo" && i.Inet() != "" {
			ip, _, _ := strings.Cut(i.Inet(), "/")
			return ip
		}
	}
	t.Fatalf("CT %d has no IPv4 address: %+v", vmid, ifaces)
	return ""
}

package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

const (
	e2eAddr    = "pve_lxc_container.test"
	brokenAddr = "pve_lxc_container.broken"
)

// e2eRepo is what the e2e template installs: apt packages (tree through
// ensure_installed in a script), a pip and an npm package.
var e2eRepo = lxctest.LocalRepoConfig{
	AptPackages: []string{"hello", "pv", "tree"},
	PipPackages: []lxctest.PipPackage{{Name: "lxctm-e2e", Version: "1.0.0"}},
	NpmPackages: []lxctest.NpmPackage{{Name: "lxctm-e2e-js", Version: "2.0.0"}},
}

// TestAccProvisionE2E provisions real LXC containers with real Terraform:
// the template directories of testdata/provision are discovered with
// pve_template_discovery and applied by pve_lxc_container over the
// simulated node's SSH (`pct exec`), then changed between steps.
func TestAccProvisionE2E(t *testing.T) {
	env := newE2EEnv(t, e2eRepo)
	t.Run("lifecycle", func(t *testing.T) { testProvisionLifecycle(t, env) })
	t.Run("disabled", func(t *testing.T) { testProvisionDisabled(t, env) })
}

// testProvisionLifecycle: create with every kind of step; change one
// script; drift of a replace file (repaired) and of a default file
// (ignored); a failing script at create (tainted, then replaced).
func testProvisionLifecycle(t *testing.T, env *e2eEnv) {
	dir := copyTemplates(t)
	helpersScript := filepath.Join(dir, "e2e", "container-configs", "scripts", "20-helpers.sh")
	failingScript := filepath.Join(dir, "failing", "container-configs", "scripts", "10-migrate.sh")
	config := func(withBroken bool) string {
		c := env.providerBlockSSH() + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  hostname = "e2e"
  template = data.pve_template_discovery.all.templates["e2e"]
  provisioning {
    enabled = true
    rerun   = "changed"
  }
}
`, dir)
		if withBroken {
			c += `
resource "pve_lxc_container" "broken" {
  node     = "pve"
  hostname = "broken"
  template = data.pve_template_discovery.all.templates["failing"]
}
`
		}
		return c
	}

	var vmid, brokenVMID, execsBefore int
	var password string
	markExecs := func() { execsBefore = env.ssh.PctExecs(vmid) }
	// checkExecBudget bounds the pct exec sessions into the container
	// since markExecs: one provisioning run is a readiness probe plus one
	// agent exec, whatever the template holds; a refresh adds one check.
	checkExecBudget := func(what string, budget int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			n := env.ssh.PctExecs(vmid) - execsBefore
			t.Logf("%s: %d pct exec sessions into CT %d", what, n, vmid)
			if n > budget {
				return fmt.Errorf("%s took %d pct exec sessions; the budget is %d", what, n, budget)
			}
			if n == 0 {
				return fmt.Errorf("%s: no pct exec session was counted: has the node's session log line changed? (sshSessionLine)", what)
			}
			return nil
		}
	}
	inCT := func(what, script, want string) resource.TestCheckFunc {
		return func(*terraform.State) error { return env.expectOutput(vmid, what, script, want) }
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkNoContainers,
		Steps: []resource.TestStep{
			{
				// 1. Create: packages, scripts, service, files, discovery.
				Config: config(false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue(e2eAddr, tfjsonpath.New("provisioned")),
					plancheck.ExpectUnknownValue(e2eAddr, tfjsonpath.New("services")),
					plancheck.ExpectSensitiveValue(e2eAddr, tfjsonpath.New("credentials")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("status"), knownvalue.StringExact("running")),
					statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("credentials"), knownvalue.MapExact(map[string]knownvalue.Check{
						"e2e-app": knownvalue.MapExact(map[string]knownvalue.Check{
							"USERNAME": knownvalue.StringExact("admin"),
							"PASSWORD": knownvalue.StringRegexp(regexp.MustCompile(`^[A-Za-z0-9]{24}$`)),
						}),
					})),
					statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("services"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{
							"name": knownvalue.StringExact("e2e-web"),
							"port": knownvalue.Int64Exact(8080),
							"url":  knownvalue.StringRegexp(regexp.MustCompile(`^http://\d+\.\d+\.\d+\.\d+:8080$`)),
						}),
					})),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) (err error) {
						vmid, err = stateVMID(s, e2eAddr)
						return err
					},
					checkExecBudget("create", 2),
					checkProvisioned(filepath.Join(dir, "e2e"), nil),
					env.checkService(e2eAddr, "e2e-web", 8080, "hello from e2e-web\n"),
					func(s *terraform.State) error {
						password = s.RootModule().Resources[e2eAddr].Primary.Attributes["credentials.e2e-app.PASSWORD"]
						return env.expectOutput(vmid, "the saved credential", `sed -n 's/^PASSWORD=//p' /etc/lxctm/credentials/e2e-app`, password+"\n")
					},
					// Packages, all from the local repository.
					inCT("apt packages", `dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' hello pv tree; hello`,
						"hello ii \npv ii \ntree ii \nHello, world!\n"),
					inCT("pip package", `pip show lxctm-e2e 2>/dev/null | grep '^Version:'`, "Version: 1.0.0\n"),
					inCT("npm package", `npm ls -g --parseable --long lxctm-e2e-js | sed 's/.*://'`, "lxctm-e2e-js@2.0.0\n"),
					inCT("custom package with a pipe", `demo-tool`, "demo-tool works\n"),
					env.checkServed("GET /apt/hello_", "GET /apt/pv_", "GET /apt/tree_", "GET /pypi/files/lxctm_e2e-1.0.0-py3-none-any.whl 200", "GET /npm/lxctm-e2e-js 200"),
					// Scripts, in order, with the helpers.
					inCT("script runs", `cat /var/log/e2e-runs`, "10-create-user.sh\n20-helpers.sh\n30-service.sh\n"),
					inCT("useradd", `getent passwd dev | cut -d: -f1,6,7`, "dev:/home/dev:/bin/bash\n"),
					inCT("run_as_user", `cat /root/run-as-user.txt`, "dev\n/home/dev\n"),
					inCT("credential file", `stat -c '%a %U' /etc/lxctm/credentials /etc/lxctm/credentials/e2e-app`, "700 root\n600 root\n"),
					inCT("systemd service", `systemctl is-enabled e2e-web; systemctl is-active e2e-web`, "enabled\nactive\n"),
					// Files: owner from the target directory, mode, policy.
					inCT("files", `cd /etc/e2e
stat -c '%n %U:%G %a' app.conf default.conf backup.conf /home/dev/.e2erc /usr/local/bin/e2e-status
ls | grep -c '^backup\.conf\.backup-[0-9]\{8\}-[0-9]\{6\}$'
stat -c 'the backup: %U:%G %a' backup.conf.backup-*
cat app.conf default.conf backup.conf backup.conf.backup-* /home/dev/.e2erc; e2e-status`, `app.conf root:root 644
default.conf root:root 644
backup.conf root:root 644
/home/dev/.e2erc dev:dev 644
/usr/local/bin/e2e-status root:root 755
1
the backup: root:root 644
managed=true
template default
new version
old version
export E2E=1
e2e ok
`),
				),
			},
			{
				// 2. One script changed: an in-place update that re-runs it alone.
				PreConfig: func() {
					content := strings.Replace(readTemplateFile(t, helpersScript), "echo 20-helpers.sh", "save_credential e2e-app REVISION 2\necho 20-helpers.sh", 1)
					writeTemplateFile(t, helpersScript, content)
					markExecs()
				},
				Config: config(false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(e2eAddr, tfjsonpath.New("provisioned")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					sameVMID(e2eAddr, &vmid),
					// A refresh (one check) before the plan, then one run.
					checkExecBudget("update", 3),
					inCT("script runs", `cat /var/log/e2e-runs`, "10-create-user.sh\n20-helpers.sh\n30-service.sh\n20-helpers.sh\n"),
					checkProvisioned(filepath.Join(dir, "e2e"), nil),
					func(s *terraform.State) error {
						attrs := s.RootModule().Resources[e2eAddr].Primary.Attributes
						if got := attrs["credentials.e2e-app.REVISION"]; got != "2" {
							return fmt.Errorf("credentials.e2e-app.REVISION = %q after the update, want 2", got)
						}
						if got := attrs["credentials.e2e-app.PASSWORD"]; got != password {
							return fmt.Errorf("the saved password changed on the re-run: %q, was %q", got, password)
						}
						return nil
					},
				),
			},
			{
				// 3. A default file edited in the container is the user's: no drift.
				PreConfig: func() {
					lxctest.Sh(t, env.lxc, vmid, `echo 'edited by the user' > /etc/e2e/default.conf`)
				},
				Config:   config(false),
				PlanOnly: true,
			},
			{
				// 4. A replace file and a backup file edited and a package
				// removed in the container: the refresh shows the drift in
				// provisioned, and the plan is an update.
				PreConfig: func() {
					lxctest.Sh(t, env.lxc, vmid, `echo tampered > /etc/e2e/app.conf && echo 'local change' > /etc/e2e/backup.conf && dpkg -r pv >/dev/null`)
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: checkProvisioned(filepath.Join(dir, "e2e"), map[string]string{
					provision.FileKey("/etc/e2e/app.conf"):    provision.FileDigest(sha256Hex("tampered\n"), templatedir.PolicyReplace, "0644"),
					provision.FileKey("/etc/e2e/backup.conf"): provision.FileDigest(sha256Hex("local change\n"), templatedir.PolicyBackup, "0644"),
					provision.PackageKey("apt", "base"):       provision.ObservedMissing + ":pv",
				}),
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(e2eAddr, tfjsonpath.New("provisioned")),
				}},
			},
			{
				// 5. The apply repairs the files and reinstalls the package,
				// leaves the default file alone and runs no script.
				PreConfig: markExecs,
				Config:    config(false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					sameVMID(e2eAddr, &vmid),
					checkExecBudget("repair", 3),
					inCT("repaired files", `cd /etc/e2e && cat app.conf default.conf backup.conf && ls backup.conf.backup-* | wc -l && cat backup.conf.backup-* | sort`,
						"managed=true\nedited by the user\nnew version\n2\nlocal change\nold version\n"),
					inCT("reinstalled package", `dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' pv`, "pv ii \n"),
					inCT("script runs", `wc -l < /var/log/e2e-runs`, "4\n"),
					checkProvisioned(filepath.Join(dir, "e2e"), nil),
				),
			},
			{
				// 6. A second container whose script fails at create: the
				// error names the script and shows its output tail.
				Config: config(true),
				// The tail is the last 40 lines: "migrating step 1" to 7 are cut.
				ExpectError: wrapTolerant(`Provisioning Failed`, `provisioning failed at script "10-migrate.sh": script exited with status 3`,
					`The container stays in state, marked tainted: the next apply replaces it.`,
					`Last output lines of the step: migrating step 8 migrating step 9`, `migrating step 45`,
					`[WARN   ] database unreachable, giving up`, `fatal: connection refused`),
			},
			{
				// 7. It stays in state, tainted, and nothing is orphaned: the
				// next plan replaces it.
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					env.checkNoOrphans,
					func(s *terraform.State) (err error) {
						rs := s.RootModule().Resources[brokenAddr]
						if rs == nil || !rs.Primary.Tainted {
							return fmt.Errorf("%s is not in state as tainted: %+v", brokenAddr, rs)
						}
						brokenVMID, err = stateVMID(s, brokenAddr)
						if err != nil {
							return err
						}
						_, err = env.sh(brokenVMID, `test -f /root/failed-once`)
						return err
					},
				),
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(brokenAddr, plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionNoop),
				}},
			},
			{
				// 8. With the script fixed the apply replaces the container.
				PreConfig: func() {
					writeTemplateFile(t, failingScript, "#!/usr/bin/env bash\nset -euo pipefail\necho migrated > /root/migrated\n")
				},
				Config: config(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(brokenAddr, plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					env.checkNoOrphans,
					func(s *terraform.State) error {
						id, err := stateVMID(s, brokenAddr)
						if err != nil {
							return err
						}
						if s.RootModule().Resources[brokenAddr].Primary.Tainted {
							return fmt.Errorf("%s is still tainted", brokenAddr)
						}
						// A fresh container: the failed run's marker is gone.
						return env.expectOutput(id, "replaced container", `cat /root/migrated; test -e /root/failed-once && echo stale || true`, "migrated\n")
					},
				),
			},
		},
	})
	t.Logf("the failed container was %d", brokenVMID)
}

// testProvisionDisabled: with provisioning { enabled = false } nothing
// runs inside the container, not even an SSH session.
func testProvisionDisabled(t *testing.T, env *e2eEnv) {
	dir := copyTemplates(t)
	before := env.ssh.Total()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkNoContainers,
		Steps: []resource.TestStep{{
			Config: env.providerBlockSSH() + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  hostname = "not-provisioned"
  template = data.pve_template_discovery.all.templates["e2e"]
  provisioning {
    enabled = false
  }
}
`, dir),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("status"), knownvalue.StringExact("running")),
				statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("provisioned"), knownvalue.Null()),
				statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("services"), knownvalue.Null()),
				statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("credentials"), knownvalue.Null()),
			},
			Check: func(s *terraform.State) error {
				if n := env.ssh.Total() - before; n != 0 {
					return fmt.Errorf("%d SSH sessions with provisioning disabled", n)
				}
				vmid, err := stateVMID(s, e2eAddr)
				if err != nil {
					return err
				}
				return env.expectOutput(vmid, "an untouched container",
					`test -e /var/log/e2e-runs && echo scripts ran; getent passwd dev; test -e /etc/e2e && echo files written; dpkg-query -W hello 2>/dev/null; true`, "")
			},
		}},
	})
}

// Provisioning needs SSH: asking for it without an ssh block is a plan-time
// error, and without the block it is off by default (the memory backend
// cannot exec, so an attempt would fail the apply).
func TestAccContainer_provisioningNeedsSSH(t *testing.T) {
	sim := newSim(t)
	dir := copyTemplates(t)
	config := func(block string) string {
		return providerBlock(sim) + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  template = data.pve_template_discovery.all.templates["e2e"]
  %s
}
`, dir, block)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := len(sim.Containers()); n != 0 {
				return fmt.Errorf("%d containers left in the simulator", n)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:   config("provisioning {\n    enabled = true\n  }"),
				PlanOnly: true,
				ExpectError: wrapTolerant(`Provisioning Needs SSH`,
					`Provisioning runs pct exec on the node over SSH, and the provider has no ssh block (or PVE_SSH_* settings).`,
					`Add an ssh block to the provider, or set provisioning.enabled = false.`),
			},
			{
				Config: config(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("status"), knownvalue.StringExact("running")),
					statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("provisioned"), knownvalue.Null()),
					statecheck.ExpectKnownValue(e2eAddr, tfjsonpath.New("credentials"), knownvalue.Null()),
				},
			},
		},
	})
}

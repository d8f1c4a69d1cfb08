package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestAccProvisionRollbackE2E updates a real LXC container with a template
// change whose new script changes the managed file, writes a file of its
// own and fails: provisioning.rollback_on_failure (on by default, the
// root filesystem is on LVM-thin) restores the container as it was before
// the apply, and the update stays pending until the script is fixed.
func TestAccProvisionRollbackE2E(t *testing.T) {
	env := newE2EEnv(t, lxctest.LocalRepoConfig{})
	api := simClient(t, env.sim)
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	for name, content := range map[string]string{
		"template.conf":                           "TEMPLATE_OS=debian\nTEMPLATE_VERSION=12\n",
		"container-configs/scripts/10-setup.sh":   "#!/usr/bin/env bash\nset -euo pipefail\necho 10-setup.sh >> /var/log/rb-runs\n",
		"container-configs/files/app.conf":        "version=1\n",
		"container-configs/files/app.conf.path":   "/etc/rb\n",
		"container-configs/files/app.conf.policy": "replace\n",
	} {
		path := filepath.Join(app, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // a test template
			t.Fatal(err)
		}
		writeTemplateFile(t, path, content)
	}
	migrate := filepath.Join(app, "container-configs", "scripts", "20-migrate.sh")
	config := env.providerBlockSSH() + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  hostname = "rollback"
  template = data.pve_template_discovery.all.templates["app"]
}
`, dir)

	var vmid int
	inCT := func(what, script, want string) resource.TestCheckFunc {
		return func(*terraform.State) error { return env.expectOutput(vmid, what, script, want) }
	}
	noSnapshots := func(*terraform.State) error {
		list, err := api.ListSnapshots(context.Background(), "pve", vmid)
		if err != nil {
			return err
		}
		if len(list.Snapshots) != 0 {
			return fmt.Errorf("container %d keeps snapshots %+v", vmid, list.Snapshots)
		}
		return nil
	}
	running := func(*terraform.State) error {
		st, err := api.ContainerStatus(context.Background(), "pve", vmid)
		if err != nil {
			return err
		}
		if !st.Running() {
			return fmt.Errorf("container %d is %s, want running", vmid, st.Status)
		}
		return nil
	}
	sameID := statecheck.CompareValue(compare.ValuesSame())
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkNoContainers,
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(e2eAddr, tfjsonpath.New("id"))},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) (err error) {
						vmid, err = stateVMID(s, e2eAddr)
						return err
					},
					inCT("first provisioning", `cat /etc/rb/app.conf /var/log/rb-runs`, "version=1\n10-setup.sh\n"),
				),
			},
			{
				// The managed file changes, and a new script changes it too,
				// writes its own file, and fails.
				PreConfig: func() {
					writeTemplateFile(t, filepath.Join(app, "container-configs", "files", "app.conf"), "version=2\n")
					writeTemplateFile(t, migrate, `#!/usr/bin/env bash
set -euo pipefail
echo 20-migrate.sh >> /var/log/rb-runs
sed -i 's/^version=.*/version=migrating/' /etc/rb/app.conf
echo 'half done' > /root/migrate.out
echo 'fatal: the schema is locked' >&2
exit 3
`)
				},
				Config: config,
				ExpectError: wrapTolerant(`Provisioning Failed, Container Rolled Back`,
					`provisioning failed at script "20-migrate.sh": script exited with status 3`,
					`The container was rolled back to its state before this apply`, `and runs again; the snapshot was deleted.`,
					`so the next plan shows this update again`, `fatal: the schema is locked`),
			},
			{
				// The container is as before the apply, runs, keeps no
				// snapshot, and the plan still shows the update.
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(e2eAddr, tfjsonpath.New("provisioned")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					running,
					inCT("after the rollback", `cat /etc/rb/app.conf /var/log/rb-runs; test -e /root/migrate.out && echo 'migrate.out survived'; true`,
						"version=1\n10-setup.sh\n"),
					noSnapshots,
				),
			},
			{
				PreConfig: func() {
					writeTemplateFile(t, migrate, `#!/usr/bin/env bash
set -euo pipefail
echo 20-migrate.sh >> /var/log/rb-runs
echo done > /root/migrate.out
`)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(e2eAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(e2eAddr, tfjsonpath.New("id"))},
				Check: resource.ComposeAggregateTestCheckFunc(
					running,
					inCT("the fixed update", `cat /etc/rb/app.conf /var/log/rb-runs /root/migrate.out`, "version=2\n10-setup.sh\n20-migrate.sh\ndone\n"),
					noSnapshots,
					checkProvisioned(app, nil),
				),
			},
		},
	})
}

package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// goldenE2EClones are the containers cloned from the image.
var goldenE2EClones = []string{"web1", "web2", "web3"}

// writeGoldenE2ETemplate writes a template with an expensive build step
// (apt packages, openssh-server among them, and a slow script), a script
// that saves a random per-install secret, a systemd service and a managed
// file.
func writeGoldenE2ETemplate(t *testing.T, dir string) string {
	t.Helper()
	tpl := filepath.Join(dir, "golden")
	files := map[string]string{
		"template.conf":                       "TEMPLATE_OS=debian\nTEMPLATE_VERSION=12\nTEMPLATE_RAM=512\nTEMPLATE_DISK=4\nTEMPLATE_UNPRIVILEGED=1\n",
		"container-configs/packages/base.apt": "hello\nopenssh-server\n",
		"container-configs/scripts/10-build.sh": `#!/usr/bin/env bash
# The expensive part: built once, in the image.
set -euo pipefail
sleep 3
mkdir -p /opt/golden
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /opt/golden/build-id
echo build >> /var/log/golden-build-runs
`,
		"container-configs/scripts/20-secret.sh": `#!/usr/bin/env bash
# A random secret of each installation's own.
set -euo pipefail
if ! grep -qs '^SECRET=' /etc/lxctm/credentials/golden-app; then
  save_credential golden-app SECRET "$(generate_password 32)"
fi
echo secret >> /var/log/golden-secret-runs
`,
		"container-configs/scripts/30-service.sh": `#!/usr/bin/env bash
set -euo pipefail
mkdir -p /srv/golden
echo "hello from the golden image" > /srv/golden/index.html
cat > /etc/systemd/system/golden-web.service <<'UNIT'
[Unit]
Description=golden image test web server
After=network.target

[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --bind 0.0.0.0 --directory /srv/golden

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now golden-web.service
`,
		"container-configs/files/app.conf":        "version=1\n",
		"container-configs/files/app.conf.path":   "/etc/golden\n",
		"container-configs/files/app.conf.policy": "replace\n",
	}
	writeTree(t, tpl, files)
	return tpl
}

// TestAccGoldenImageE2E builds a golden image on real LXC and clones three
// containers from it: the expensive step ran only in the image, no package
// manager ran on a clone, each clone has its hostname, its running
// service, SSH host keys, a machine id and a secret of its own; the next
// plan is empty. A template change then builds a new image while the
// clones keep running and get the changed step in place; destroy removes
// the clones, then the images.
func TestAccGoldenImageE2E(t *testing.T) {
	be := newE2EBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	repo := lxctest.LocalRepoConfig{AptPackages: aptInstallSet(ctx, t, be, []string{"hello", "openssh-server"})}
	env := startE2EEnv(t, be, repo)
	tpl := writeGoldenE2ETemplate(t, t.TempDir())
	config := func(clones ...string) string {
		c := env.providerBlockSSH() + fmt.Sprintf(`
resource "pve_lxc_template" "golden" {
  node       = "pve"
  source_dir = %q
  image {}
}
`, tpl)
		for _, name := range clones {
			c += fmt.Sprintf(`
resource "pve_lxc_container" %[1]q {
  node     = "pve"
  hostname = %[1]q
  template = pve_lxc_template.golden.spec
}
`, name)
		}
		return c
	}
	var image int
	vmids := map[string]int{}
	var initStart map[string]string
	var servedBefore int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkNoContainers,
		Steps: []resource.TestStep{
			{
				// The image alone: built, generalised, a template.
				Config: config(),
				Check: func(s *terraform.State) (err error) {
					if image, err = stateInt(s, goldenAddr, "image_vmid"); err != nil {
						return err
					}
					c, ok := env.sim.Container(image)
					if !ok || c.Config["template"] != "1" || c.Status != "stopped" {
						return fmt.Errorf("image %d: %+v", image, c)
					}
					servedBefore = len(env.repo.Served())
					return nil
				},
			},
			{
				// Three clones.
				Config: config(goldenE2EClones...),
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						for _, name := range goldenE2EClones {
							vmid, err := stateVMID(s, "pve_lxc_container."+name)
							if err != nil {
								return err
							}
							vmids[name] = vmid
						}
						if served := env.repo.Served(); len(served) != servedBefore {
							return fmt.Errorf("a package manager fetched from the repository while the clones were made:\n%s",
								strings.Join(served[servedBefore:], "\n"))
						}
						return nil
					},
					env.checkClones(vmids, "version=1\n"),
					env.checkDistinct(vmids, "machine id", `cat /etc/machine-id`, regexp.MustCompile(`^[0-9a-f]{32}\n$`)),
					env.checkDistinct(vmids, "SSH host key", `cat /etc/ssh/ssh_host_ed25519_key.pub`, regexp.MustCompile(`^ssh-ed25519 `)),
					env.checkDistinct(vmids, "secret", `sed -n 's/^SECRET=//p' /etc/lxctm/credentials/golden-app`, regexp.MustCompile(`^[A-Za-z0-9]{32}\n$`)),
					checkSecretsInState(vmids),
					env.checkServicesOfClones(),
					func(s *terraform.State) error { return checkProvisionedAll(s, tpl, goldenE2EClones...) },
					func(*terraform.State) error {
						var err error
						initStart, err = env.initStarts(vmids)
						return err
					},
				),
			},
			{
				// A changed file: a new image, the clones updated in place.
				PreConfig: func() {
					writeTemplateFile(t, filepath.Join(tpl, "container-configs", "files", "app.conf"), "version=2\n")
				},
				Config: config(goldenE2EClones...),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(goldenAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pve_lxc_container.web1", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pve_lxc_container.web2", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pve_lxc_container.web3", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						rebuilt, err := stateInt(s, goldenAddr, "image_vmid")
						if err != nil {
							return err
						}
						if rebuilt == image {
							return fmt.Errorf("the image was not rebuilt")
						}
						if err := resource.TestCheckResourceAttr(goldenAddr, "retired_image_vmids.0", strconv.Itoa(image))(s); err != nil {
							return err
						}
						for name, vmid := range vmids {
							if err := sameVMID("pve_lxc_container."+name, &vmid)(s); err != nil {
								return err
							}
						}
						after, err := env.initStarts(vmids)
						if err != nil {
							return err
						}
						if fmt.Sprint(after) != fmt.Sprint(initStart) {
							return fmt.Errorf("the clones were restarted by the update: init started at %v, before at %v", after, initStart)
						}
						return nil
					},
					env.checkClones(vmids, "version=2\n"),
					func(s *terraform.State) error { return checkProvisionedAll(s, tpl, goldenE2EClones...) },
				),
			},
		},
	})
}

// checkClones checks each clone: its hostname, the expensive step run only
// in the image, the secret step run in the image and once in the clone,
// its service and SSH server running, the managed file, and no package
// index (the image's was cleaned; no apt-get update ran since).
func (e *e2eEnv) checkClones(vmids map[string]int, appConf string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for name, vmid := range vmids {
			want := name + "\nbuild\n2\nactive\nactive\n" + appConf + "0\n"
			if err := e.expectOutput(vmid, "clone "+name, `hostname
cat /var/log/golden-build-runs
wc -l < /var/log/golden-secret-runs
systemctl is-active golden-web
systemctl is-active ssh
cat /etc/golden/app.conf
find /var/lib/apt/lists -type f ! -name lock | wc -l`, want); err != nil {
				return err
			}
		}
		return nil
	}
}

// checkDistinct runs script in every clone: each output must match format
// and no two may be equal.
func (e *e2eEnv) checkDistinct(vmids map[string]int, what, script string, format *regexp.Regexp) resource.TestCheckFunc {
	return func(*terraform.State) error {
		seen := map[string]string{}
		for name, vmid := range vmids {
			got, err := e.sh(vmid, script)
			if err != nil {
				return fmt.Errorf("%s of %s: %w", what, name, err)
			}
			if !format.MatchString(got) {
				return fmt.Errorf("%s of %s: %q does not match %s", what, name, got, format)
			}
			if other, dup := seen[got]; dup {
				return fmt.Errorf("%s and %s share the %s %q", name, other, what, strings.TrimSpace(got))
			}
			seen[got] = name
		}
		return nil
	}
}

// checkSecretsInState checks that each clone's credentials in state hold
// its own secret.
func checkSecretsInState(vmids map[string]int) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		seen := map[string]string{}
		for name := range vmids {
			secret := s.RootModule().Resources["pve_lxc_container."+name].Primary.Attributes["credentials.golden-app.SECRET"]
			if len(secret) != 32 {
				return fmt.Errorf("%s: credentials.golden-app.SECRET = %q", name, secret)
			}
			if other, dup := seen[secret]; dup {
				return fmt.Errorf("%s and %s share their secret in state", name, other)
			}
			seen[secret] = name
		}
		return nil
	}
}

// checkServicesOfClones checks the service each clone reports in state
// and that it answers on the clone's own address.
func (e *e2eEnv) checkServicesOfClones() resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, name := range goldenE2EClones {
			if err := e.checkService("pve_lxc_container."+name, "golden-web", 8080, "hello from the golden image\n")(s); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	}
}

// initStarts reads when each clone's init started (in clock ticks since
// the host booted): it changes only when the container restarts.
func (e *e2eEnv) initStarts(vmids map[string]int) (map[string]string, error) {
	out := map[string]string{}
	for name, vmid := range vmids {
		got, err := e.sh(vmid, `cut -d' ' -f22 /proc/1/stat`)
		if err != nil {
			return nil, err
		}
		out[name] = strings.TrimSpace(got)
	}
	return out, nil
}

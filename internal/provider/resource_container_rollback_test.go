package provider

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// hostExec answers pct exec for the memory backend by running the command
// on the host, so the real provisioning agent applies a template whose
// files and scripts stay under a test directory (the memory backend has
// no filesystem to snapshot: what a rollback restores on a real container
// is the e2e suite's business). Credentials and the agent's temporary
// files stay in test directories too, and so do the provisioning record
// and the root a clone's identity is written under (the host's /etc is
// never touched).
type hostExec struct {
	tmp, creds, record, root string
}

func newHostExec(t *testing.T) *hostExec {
	t.Helper()
	own := t.TempDir()
	return &hostExec{tmp: t.TempDir(), creds: filepath.Join(own, "credentials"), record: filepath.Join(own, "provisioned"), root: filepath.Join(own, "root")}
}

func (h *hostExec) hook(_ int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // the provider's own agent and readiness probe
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + h.tmp, "TMPDIR=" + h.tmp, "LXCTM_CREDENTIALS_DIR=" + h.creds,
		"LXCTM_RECORD_FILE=" + h.record, "LXCTM_ROOT=" + h.root}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// rollbackTemplate writes the template directory "app" under dir: one
// script and one replace file, both writing under root.
func rollbackTemplate(t *testing.T, dir, root string) string {
	t.Helper()
	app := filepath.Join(dir, "app")
	files := map[string]string{
		"template.conf":                           "TEMPLATE_OS=debian\nTEMPLATE_VERSION=12\n",
		"container-configs/scripts/10-mark.sh":    "#!/usr/bin/env bash\necho mark >> " + root + "/runs\n",
		"container-configs/files/app.conf":        "version=1\n",
		"container-configs/files/app.conf.path":   root + "/etc\n",
		"container-configs/files/app.conf.policy": "replace\n",
	}
	writeTree(t, app, files)
	return app
}

// loadSpec parses a template directory as it is now.
func loadSpec(t *testing.T, dir string) templatedir.Spec {
	t.Helper()
	tpl, err := templatedir.LoadTemplate(dir)
	if err != nil || !tpl.Valid() {
		t.Fatalf("loading %s: %v %v", dir, err, tpl.Errors)
	}
	return tpl.Spec
}

// checkStateProvisioned compares the container's provisioned map in state
// with the digests of spec.
func checkStateProvisioned(spec *templatedir.Spec) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[ctAddr]
		if !ok {
			return fmt.Errorf("%s is not in state", ctAddr)
		}
		got := map[string]string{}
		for k, v := range rs.Primary.Attributes {
			if key, ok := strings.CutPrefix(k, "provisioned."); ok && key != "%" {
				got[key] = v
			}
		}
		if want := provision.Desired(*spec); fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("provisioned in state:\n%v\nwant:\n%v", got, want)
		}
		held, err := templatedir.ParseJSON(rs.Primary.Attributes["template"])
		if err != nil {
			return fmt.Errorf("template in state: %w", err)
		}
		if got, want := held.SHA256, spec.SHA256; got != want {
			return fmt.Errorf("state holds template %s, want %s", got, want)
		}
		return nil
	}
}

// snapshotRequests lists the snapshot requests the simulator got for
// vmid, as "METHOD path-after-/snapshot params".
func snapshotRequests(sim *pvesimtest.Sim, vmid int) []string {
	prefix := "/api2/json/nodes/pve/lxc/" + strconv.Itoa(vmid) + "/snapshot"
	var out []string
	for _, r := range sim.Requests() {
		rest, ok := strings.CutPrefix(r.Path, prefix)
		if !ok || r.Method == "GET" {
			continue
		}
		line := r.Method + " " + rest
		if name, ok := r.Params["snapname"].(string); ok {
			line += " snapname=" + name
		}
		if start, ok := r.Params["start"]; ok {
			line += fmt.Sprintf(" start=%v", start)
		}
		out = append(out, line)
	}
	return out
}

// A guarded run's requests: its snapshot taken (the name captured), then
// deleted.
const (
	guardTaken   = `POST  snapname=(tfpve-pre-\d+)`
	guardDeleted = `DELETE /%s`
)

// An update whose script fails is rolled back to the snapshot taken right
// before its provisioning run, the snapshot is deleted, the error names the
// script, and state keeps the previous template, so the next plan shows
// the update again; fixed, it applies (and deletes its snapshot too).
func TestAccContainer_rollbackOnFailure(t *testing.T) {
	sim := newSim(t)
	host := newHostExec(t)
	sim.Memory().SetExecHook(host.hook)
	root, dir := t.TempDir(), t.TempDir()
	app := rollbackTemplate(t, dir, root)
	failing := filepath.Join(app, "container-configs", "scripts", "20-migrate.sh")
	config := providerBlockSSH(sim) + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  template = data.pve_template_discovery.all.templates["app"]
}
`, dir)
	var vmid int
	var before templatedir.Spec
	var requestsBefore int
	sameID := statecheck.CompareValue(compare.ValuesSame())
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
				// Creation is never guarded by a snapshot.
				Config:            config,
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(ctAddr, tfjsonpath.New("id"))},
				Check: func(s *terraform.State) (err error) {
					if vmid, err = stateVMID(s, ctAddr); err != nil {
						return err
					}
					before = loadSpec(t, app)
					if err := checkStateProvisioned(&before)(s); err != nil {
						return err
					}
					if reqs := snapshotRequests(sim, vmid); len(reqs) != 0 {
						return fmt.Errorf("the create took snapshots: %q", reqs)
					}
					return expectFile(filepath.Join(root, "etc", "app.conf"), "version=1\n")
				},
			},
			{
				PreConfig: func() {
					writeTemplateFile(t, filepath.Join(app, "container-configs", "files", "app.conf"), "version=2\n")
					writeTemplateFile(t, failing, "#!/usr/bin/env bash\necho 'migrating the database'\necho 'fatal: schema locked' >&2\nexit 7\n")
				},
				Config: config,
				ExpectError: wrapTolerant(`Provisioning Failed, Container Rolled Back`,
					`provisioning failed at script "20-migrate.sh": script exited with status 7`,
					`The container was rolled back to its state before this apply (to the snapshot tfpve-pre-`,
					`and runs again; the snapshot was deleted.`,
					`State keeps the previous template and provisioning results, so the next plan shows this update again`,
					`Last output lines of the step:`, `fatal: schema locked`),
			},
			{
				// The refresh finds the container as the rollback left it;
				// state still has the previous template, so the update is
				// planned again.
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(ctAddr, tfjsonpath.New("provisioned")),
				}},
				Check: func(s *terraform.State) error {
					if err := checkStateProvisioned(&before)(s); err != nil {
						return err
					}
					if ct, _ := sim.Container(vmid); ct.Status != "running" {
						return fmt.Errorf("container %d is %s after the rollback, want running", vmid, ct.Status)
					}
					if left := sim.Memory().Snapshots(vmid); len(left) != 0 {
						return fmt.Errorf("snapshots left behind: %q", left)
					}
					reqs := snapshotRequests(sim, vmid)
					requestsBefore = len(reqs)
					return matchRequests(reqs, guardTaken, `POST /%s/rollback start=1`, guardDeleted)
				},
			},
			{
				PreConfig: func() {
					writeTemplateFile(t, failing, "#!/usr/bin/env bash\necho migrated >> "+root+"/runs\n")
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{sameID.AddStateValue(ctAddr, tfjsonpath.New("id"))},
				Check: func(s *terraform.State) error {
					after := loadSpec(t, app)
					if err := checkStateProvisioned(&after)(s); err != nil {
						return err
					}
					if left := sim.Memory().Snapshots(vmid); len(left) != 0 {
						return fmt.Errorf("snapshots left behind: %q", left)
					}
					return matchRequests(snapshotRequests(sim, vmid)[requestsBefore:], guardTaken, guardDeleted)
				},
			},
		},
	})
}

// matchRequests checks a sequence of snapshot requests: the first pattern
// captures the snapshot's name, which "%s" in the later ones stands for.
func matchRequests(got []string, patterns ...string) error {
	if len(got) != len(patterns) {
		return fmt.Errorf("snapshot requests %q, want %d matching %q", got, len(patterns), patterns)
	}
	name := ""
	for i, p := range patterns {
		if strings.Contains(p, "%s") {
			p = fmt.Sprintf(p, name)
		}
		m := regexpMustFull(p).FindStringSubmatch(got[i])
		if m == nil {
			return fmt.Errorf("snapshot request %d is %q, want %q (all: %q)", i, got[i], p, got)
		}
		if i == 0 && len(m) > 1 {
			name = m[1]
		}
	}
	return nil
}

func regexpMustFull(pattern string) *regexp.Regexp { return regexp.MustCompile("^" + pattern + "$") }

// expectFile checks a file's content.
func expectFile(path, want string) error {
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if string(got) != want {
		return fmt.Errorf("%s holds %q, want %q", path, got, want)
	}
	return nil
}

// Where the container cannot be snapshotted (raw volumes on a dir
// storage), the default provisions as before without any snapshot
// request, and an explicit rollback_on_failure = true is refused at plan
// time.
func TestAccContainer_rollbackWithoutSnapshots(t *testing.T) {
	sim := newSim(t, withDirRootdir)
	host := newHostExec(t)
	sim.Memory().SetExecHook(host.hook)
	root, dir := t.TempDir(), t.TempDir()
	app := rollbackTemplate(t, dir, root)
	config := func(rollback string) string {
		return providerBlockSSH(sim) + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  storage  = "local-dir"
  template = data.pve_template_discovery.all.templates["app"]
  provisioning {
    %s
  }
}
`, dir, rollback)
	}
	var vmid int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Refused before the container is made, too.
				Config:      config("rollback_on_failure = true"),
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Rollback Needs Snapshots`, `Proxmox VE cannot snapshot rootfs on storage "local-dir" (dir).`),
			},
			{
				Config: config(""),
				Check: func(s *terraform.State) (err error) {
					vmid, err = stateVMID(s, ctAddr)
					return err
				},
			},
			{
				PreConfig: func() {
					writeTemplateFile(t, filepath.Join(app, "container-configs", "files", "app.conf"), "version=2\n")
				},
				Config:      config("rollback_on_failure = true"),
				PlanOnly:    true,
				ExpectError: wrapTolerant(`Rollback Needs Snapshots`, `Proxmox VE cannot snapshot rootfs on storage "local-dir" (dir).`),
			},
			{
				Config: config(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if reqs := snapshotRequests(sim, vmid); len(reqs) != 0 {
						return fmt.Errorf("snapshot requests on a storage that cannot snapshot: %q", reqs)
					}
					spec := loadSpec(t, app)
					if err := checkStateProvisioned(&spec)(s); err != nil {
						return err
					}
					return expectFile(filepath.Join(root, "etc", "app.conf"), "version=2\n")
				},
			},
		},
	})
}

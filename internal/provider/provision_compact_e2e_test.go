package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Compact templates on real LXC with the real CLI, as a CI pipeline runs
// them: a saved plan applied in the same checkout; a template file edited
// between plan and apply (refused, nothing changed in the container); and a
// state written by the provider before compact templates (version 0),
// upgraded without replacing or re-provisioning the container.
func TestAccProvisionCompactE2E(t *testing.T) {
	env := newE2EEnv(t, lxctest.LocalRepoConfig{})
	tf := terraformBinary(t)
	dir := t.TempDir()
	tpl := filepath.Join(dir, "templates", "compact")
	writeCompactTemplate(t, tpl, "v1")
	writeFile(t, filepath.Join(dir, "main.tf"), requiredProviders+env.providerBlockSSH()+`
data "pve_template_discovery" "all" {
  path = "./templates"
}

resource "pve_lxc_container" "compact" {
  node     = "pve"
  hostname = "compact"
  template = data.pve_template_discovery.all.templates["compact"]
}
`)
	cli := newBuiltProviderSession(t, tf, dir)
	t.Cleanup(func() { cli.exitCode("destroy", "-auto-approve") })

	// A saved plan, applied later in the same checkout.
	cli.run("plan", "-out=create.tfplan")
	cli.run("apply", "create.tfplan")
	vmid := compactStateVMID(t, dir)
	expectInCT(t, env, vmid, "the script ran once", "wc -l < /var/log/compact-runs", "1\n")
	expectInCT(t, env, vmid, "the managed file", "cat /etc/compact/app.conf", "version=v1\n")
	checkCompactState(t, dir)

	// Edited between plan and apply: the plan carried v2's digests, the
	// directory now holds v3. The apply refuses before touching anything.
	writeCompactTemplate(t, tpl, "v2")
	plan := cli.run("plan", "-out=change.tfplan")
	if !strings.Contains(plan, `sha256`) || strings.Contains(plan, "version=v2") {
		t.Errorf("the plan should show the script's digest changing, not its text:\n%s", plan)
	}
	writeCompactTemplate(t, tpl, "v3")
	code, out := cli.exitCode("apply", "change.tfplan")
	if code == 0 || !strings.Contains(out, "Template Changed Since the Plan") || !strings.Contains(out, "10-compact.sh changed since the plan") {
		t.Fatalf("applying a plan whose template changed since: exit %d\n%s", code, out)
	}
	expectInCT(t, env, vmid, "nothing ran after the refusal", "wc -l < /var/log/compact-runs", "1\n")
	expectInCT(t, env, vmid, "the managed file is untouched", "cat /etc/compact/app.conf", "version=v1\n")

	// Planned again, the change applies.
	cli.run("apply", "-auto-approve")
	expectInCT(t, env, vmid, "the changed script ran", "tail -n 1 /var/log/compact-runs", "v3\n")
	expectInCT(t, env, vmid, "the managed file", "cat /etc/compact/app.conf", "version=v3\n")

	// A version-0 state of the same, provisioned container: the upgrade
	// replaces nothing and provisions nothing.
	downgradeState(t, dir, tpl)
	plan = cli.run("plan")
	if !strings.Contains(plan, "0 to add, 1 to change, 0 to destroy") || strings.Contains(plan, "echo v3") {
		t.Fatalf("upgrading a version-0 state must plan one in-place update that shows no content:\n%s", plan)
	}
	cli.run("apply", "-auto-approve")
	expectInCT(t, env, vmid, "the upgrade re-ran nothing", "wc -l < /var/log/compact-runs", "2\n")
	checkCompactState(t, dir)
	if code, out := cli.exitCode("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("the plan after the upgrade's apply is not empty (exit %d):\n%s", code, out)
	}
}

// writeCompactTemplate writes a template whose script logs version to
// /var/log/compact-runs and whose managed file holds version.
func writeCompactTemplate(t *testing.T, dir, version string) {
	t.Helper()
	for name, content := range map[string]string{
		"template.conf": "TEMPLATE_OS=debian\nTEMPLATE_VERSION=12\nTEMPLATE_RAM=256\n",
		"container-configs/scripts/10-compact.sh": "#!/bin/bash\nset -eu\necho " + version + " >> /var/log/compact-runs\n",
		"container-configs/files/app.conf":        "version=" + version + "\n",
		"container-configs/files/app.conf.path":   "/etc/compact\n",
		"container-configs/files/app.conf.policy": "replace\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, content)
	}
}

func expectInCT(t *testing.T, env *e2eEnv, vmid int, what, script, want string) {
	t.Helper()
	if err := env.expectOutput(vmid, what, script, want); err != nil {
		t.Fatal(err)
	}
}

// tfState is the part of terraform.tfstate these tests read and rewrite.
type tfState map[string]json.RawMessage

func readState(t *testing.T, dir string) (tfState, []map[string]any) {
	t.Helper()
	var state tfState
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "terraform.tfstate"))), &state); err != nil {
		t.Fatal(err)
	}
	var resources []map[string]any
	if err := json.Unmarshal(state["resources"], &resources); err != nil {
		t.Fatal(err)
	}
	return state, resources
}

// containerInstance is the container's instance object in state.
func containerInstance(t *testing.T, resources []map[string]any) map[string]any {
	t.Helper()
	for _, r := range resources {
		if r["type"] == "pve_lxc_container" {
			return r["instances"].([]any)[0].(map[string]any)
		}
	}
	t.Fatal("no pve_lxc_container in state")
	return nil
}

func compactStateVMID(t *testing.T, dir string) int {
	t.Helper()
	_, resources := readState(t, dir)
	attrs := containerInstance(t, resources)["attributes"].(map[string]any)
	vmid, err := strconv.Atoi(fmt.Sprint(attrs["vmid"]))
	if err != nil {
		t.Fatal(err)
	}
	return vmid
}

// checkCompactState: the container's template in state has digests and a
// source, no content, and the whole instance stays within its budget.
func checkCompactState(t *testing.T, dir string) {
	t.Helper()
	_, resources := readState(t, dir)
	inst := containerInstance(t, resources)
	attrs := inst["attributes"].(map[string]any)
	data, _ := json.Marshal(attrs)
	if len(data) > compactTemplateBudget {
		t.Errorf("the container keeps %d bytes of attributes, over %d", len(data), compactTemplateBudget)
	}
	doc, _ := attrs["template"].(string)
	spec, err := templatedir.ParseJSON(doc)
	if err != nil {
		t.Fatalf("template in state: %v", err)
	}
	if strings.Contains(doc, `"content"`) || !sha256RE.MatchString(spec.Scripts[0].SHA256) || spec.Source != "templates/compact" {
		t.Errorf("template in state is not compact: %s", doc)
	}
}

// downgradeState rewrites the container in state the way the provider
// before compact templates wrote it (schema version 0): the template a
// nested object without source, the content of every script and file
// inline. Its digest is left as it is: the upgrade computes it anew.
func downgradeState(t *testing.T, dir, templateDir string) {
	t.Helper()
	state, resources := readState(t, dir)
	inst := containerInstance(t, resources)
	inst["schema_version"] = 0
	attrs := inst["attributes"].(map[string]any)
	spec, err := templatedir.ParseJSON(attrs["template"].(string))
	if err != nil {
		t.Fatal(err)
	}
	for i, sc := range spec.Scripts {
		spec.Scripts[i].Content = readFile(t, filepath.Join(templateDir, "container-configs", "scripts", sc.Name))
	}
	for i, f := range spec.Files {
		spec.Files[i].Content = readFile(t, filepath.Join(templateDir, "container-configs", "files", f.Name))
	}
	spec.Source = ""
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatal(err)
	}
	delete(tmpl, "source")
	for _, f := range tmpl["files"].([]any) {
		f.(map[string]any)["content_base64"] = ""
	}
	attrs["template"] = tmpl
	if state["resources"], err = json.Marshal(resources); err != nil {
		t.Fatal(err)
	}
	data, err = json.MarshalIndent(state, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "terraform.tfstate"), string(data))
}

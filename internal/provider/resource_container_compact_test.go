package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// compactTemplateBudget is the most state a container built from a
// template may take (DESIGN §11 allows 8 KB for a 100 KB template; the
// quickstart's devbox is far smaller).
const compactTemplateBudget = 8 << 10

// Both paths users write keep a compact template in the container's state:
// digests and names, no script or file content.
func TestAccContainer_compactTemplateState(t *testing.T) {
	sim := newSim(t)
	config := providerBlockRoot(sim) + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_template" "devbox" {
  node        = "pve"
  source_spec = data.pve_template_discovery.all.templates["devbox"]
}

resource "pve_lxc_container" "from_discovery" {
  node     = "pve"
  hostname = "a"
  template = data.pve_template_discovery.all.templates["devbox"]
}

resource "pve_lxc_container" "from_template" {
  node     = "pve"
  hostname = "b"
  template = pve_lxc_template.devbox.spec
}
`, quickstartTemplates)
	var checks []statecheck.StateCheck
	for _, addr := range []string{"pve_lxc_container.from_discovery", "pve_lxc_container.from_template", "pve_lxc_template.devbox"} {
		attr := "template"
		if addr == "pve_lxc_template.devbox" {
			attr = "spec"
		}
		checks = append(checks, expectSpec(addr, tfjsonpath.New(attr), func(s templatedir.Spec, doc string) error {
			switch {
			case s.Source != filepath.Join(quickstartTemplates, "devbox"):
				return fmt.Errorf("source %q", s.Source)
			case strings.Contains(doc, `"content"`) || strings.Contains(doc, "useradd"):
				return fmt.Errorf("the document carries content: %s", doc)
			case !sha256RE.MatchString(s.Scripts[0].SHA256) || !sha256RE.MatchString(s.Scripts[1].SHA256) || !sha256RE.MatchString(s.Files[0].SHA256):
				return fmt.Errorf("digests missing: %+v %+v", s.Scripts, s.Files)
			case s.Files[2].Mode != "0755":
				return fmt.Errorf("file %+v", s.Files[2])
			}
			return nil
		}))
	}
	checks = append(checks, stateSizeAtMost{max: compactTemplateBudget, addrs: []string{"pve_lxc_container.from_discovery", "pve_lxc_container.from_template"}})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:            config,
				ConfigStateChecks: checks,
			},
			{Config: config, PlanOnly: true},
		},
	})
}

// stateSizeAtMost asserts that each resource keeps at most max bytes of
// attributes in state, measured as terraform.tfstate stores them (JSON).
type stateSizeAtMost struct {
	max   int
	addrs []string
}

func (c stateSizeAtMost) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	found := map[string]bool{}
	for _, r := range req.State.Values.RootModule.Resources {
		if !slices.Contains(c.addrs, r.Address) {
			continue
		}
		found[r.Address] = true
		data, err := json.Marshal(r.AttributeValues)
		if err != nil {
			resp.Error = err
			return
		}
		if len(data) > c.max {
			resp.Error = fmt.Errorf("%s keeps %d bytes of attributes in state, over the %d-byte budget", r.Address, len(data), c.max)
			return
		}
	}
	if len(found) != len(c.addrs) {
		resp.Error = fmt.Errorf("state has %v of %v", found, c.addrs)
	}
}

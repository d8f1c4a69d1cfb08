package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// writeTree creates files (relative path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func discoveryConfig(path string, extra string) string {
	return fmt.Sprintf(`
data "pve_template_discovery" "t" {
  path = %q
  %s
}
`, path, extra)
}

func TestAccTemplateDiscovery_fixture(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"good/template.conf": `TEMPLATE_UNPRIVILEGED="${TEMPLATE_UNPRIVILEGED:-1}"  # 1 = unprivileged
TEMPLATE_CPU=2
TEMPLATE_TAGS="Web;db web"
`,
		"good/container-configs/scripts/10-b.sh":    "echo b\n",
		"good/container-configs/scripts/2-a.sh":     "echo a\n",
		"good/container-configs/packages/base.apt":  "curl\njq=1.6-2 # pinned\n",
		"good/container-configs/files/.bashrc":      "alias ll='ls -l'\n",
		"good/container-configs/files/.bashrc.path": "/home/dev/\n",
		"bad/template.conf":                         "TEMPLATE_NESTING=maybe\n",
		"notatemplate/README.md":                    "hello\n",
	})

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      discoveryConfig(dir, ""),
				ExpectError: regexp.MustCompile(`(?s)Invalid Template.*bad/template.conf:1:.*TEMPLATE_NESTING`),
			},
			{
				Config: discoveryConfig(dir, "skip_invalid = true"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates"), knownvalue.MapSizeExact(1)),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good").AtMapKey("defaults").AtMapKey("unprivileged"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good").AtMapKey("defaults").AtMapKey("cores"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good").AtMapKey("tags"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("db"), knownvalue.StringExact("web")})),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good").AtMapKey("scripts").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("2-a.sh")),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good").AtMapKey("packages").AtSliceIndex(1).AtMapKey("version"), knownvalue.StringExact("1.6-2")),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good").AtMapKey("files").AtSliceIndex(0),
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"name": knownvalue.StringExact(".bashrc"), "target_path": knownvalue.StringExact("/home/dev"), "policy": knownvalue.StringExact("default"),
						})),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good").AtMapKey("sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("warnings"), knownvalue.ListPartial(map[int]knownvalue.Check{
						0: knownvalue.StringRegexp(regexp.MustCompile(`bad/template.conf:1:`)),
					})),
				},
			},
			{
				Config: discoveryConfig(dir, `names = ["good"]`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.pve_template_discovery.t", tfjsonpath.New("templates"), knownvalue.MapSizeExact(1)),
				},
			},
			{
				Config:      discoveryConfig(dir, `names = ["nope"]`),
				ExpectError: regexp.MustCompile(`No template named "nope"`),
			},
			{
				Config:      discoveryConfig(filepath.Join(dir, "does-not-exist"), ""),
				ExpectError: regexp.MustCompile(`Cannot Read Template Directory`),
			},
		},
	})
}

package provider

import (
	"crypto/sha256"
	"encoding/hex"
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

// The quickstart's own templates: the dev box exercises every part of the
// format (a user-creating script, default-policy dotfiles, apt and npm
// buckets, a .custom installer whose command has a pipe).
func TestAccTemplateDiscovery_quickstart(t *testing.T) {
	// at is a path inside the devbox spec: strings are keys, ints indexes.
	at := func(steps ...any) tfjsonpath.Path {
		p := tfjsonpath.New("templates").AtMapKey("devbox")
		for _, s := range steps {
			switch v := s.(type) {
			case string:
				p = p.AtMapKey(v)
			case int:
				p = p.AtSliceIndex(v)
			}
		}
		return p
	}
	const ds = "data.pve_template_discovery.quickstart"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
data "pve_template_discovery" "quickstart" {
  path = %q
}
`, quickstartTemplates),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("templates"), knownvalue.MapSizeExact(2)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("warnings"), knownvalue.ListSizeExact(0)),
				// The trailing comment on TEMPLATE_UNPRIVILEGED must not make it privileged.
				statecheck.ExpectKnownValue(ds, at("defaults", "unprivileged"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(ds, at("defaults", "memory"), knownvalue.Int64Exact(2048)),
				statecheck.ExpectKnownValue(ds, at("defaults", "features"), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"nesting": knownvalue.Bool(true), "keyctl": knownvalue.Bool(true), "fuse": knownvalue.Bool(false),
				})),
				statecheck.ExpectKnownValue(ds, at("os_template"), knownvalue.StringExact("debian-12-standard")),
				statecheck.ExpectKnownValue(ds, at("tags"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("dev"), knownvalue.StringExact("nodejs"), knownvalue.StringExact("tooling"),
				})),
				statecheck.ExpectKnownValue(ds, at("scripts", 1, "name"), knownvalue.StringExact("10-create-user.sh")),
				// Compact: the script is known by its digest; its content stays in the directory.
				statecheck.ExpectKnownValue(ds, at("scripts", 1, "content"), knownvalue.Null()),
				statecheck.ExpectKnownValue(ds, at("scripts", 1, "sha256"), knownvalue.StringExact(fileSHA256(t, filepath.Join(quickstartTemplates, "devbox/container-configs/scripts/10-create-user.sh")))),
				statecheck.ExpectKnownValue(ds, at("files", 0, "content"), knownvalue.Null()),
				statecheck.ExpectKnownValue(ds, at("source"), knownvalue.StringExact(filepath.Join(quickstartTemplates, "devbox"))),
				statecheck.ExpectKnownValue(ds, at("files", 0), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"name": knownvalue.StringExact(".bashrc"), "target_path": knownvalue.StringExact("/home/dev"),
					"policy": knownvalue.StringExact("default"), "mode": knownvalue.StringExact("0644"),
				})),
				statecheck.ExpectKnownValue(ds, at("files", 2), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"name": knownvalue.StringExact("devbox-info"), "policy": knownvalue.StringExact("replace"), "mode": knownvalue.StringExact("0755"),
				})),
				statecheck.ExpectKnownValue(ds, at("packages"), knownvalue.ListPartial(map[int]knownvalue.Check{
					0: knownvalue.ObjectPartial(map[string]knownvalue.Check{"bucket": knownvalue.StringExact("base"), "manager": knownvalue.StringExact("apt")}),
				})),
				statecheck.ExpectKnownValue(ds, at("packages", 14), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"manager": knownvalue.StringExact("npm"), "name": knownvalue.StringExact("@biomejs/biome"), "version": knownvalue.StringExact("1.8.3"),
				})),
				statecheck.ExpectKnownValue(ds, at("packages", 15), knownvalue.ObjectPartial(map[string]knownvalue.Check{
					"manager": knownvalue.StringExact("custom"), "name": knownvalue.StringExact("starship"),
					"install": knownvalue.StringRegexp(regexp.MustCompile(`install\.sh \| sh -s`)), "timeout": knownvalue.Int64Exact(600),
				})),
				statecheck.ExpectKnownValue(ds, at("sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
			},
		}},
	})
}

// fileSHA256 is the hex SHA-256 of a file's bytes.
func fileSHA256(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

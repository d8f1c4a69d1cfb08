package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// writeTree creates files (relative path → content) under dir.
func writeTree(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		writeTemplateFile(tb, p, content)
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
					expectSpec("data.pve_template_discovery.t", tfjsonpath.New("templates").AtMapKey("good"), func(s templatedir.Spec, _ string) error {
						switch {
						case !s.Defaults.Unprivileged || s.Defaults.Cores != 2:
							return fmt.Errorf("defaults %+v", s.Defaults)
						case !slices.Equal(s.Tags, []string{"db", "web"}):
							return fmt.Errorf("tags %v", s.Tags)
						case s.Scripts[0].Name != "2-a.sh" || s.Packages[1].Version != "1.6-2":
							return fmt.Errorf("scripts %+v, packages %+v", s.Scripts, s.Packages)
						case s.Files[0].Name != ".bashrc" || s.Files[0].TargetPath != "/home/dev" || s.Files[0].Policy != "default":
							return fmt.Errorf("files %+v", s.Files)
						case !sha256RE.MatchString(s.SHA256) || s.SHA256 != s.ComputeDigest():
							return fmt.Errorf("sha256 %q", s.SHA256)
						}
						return nil
					}),
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
				expectSpec(ds, tfjsonpath.New("templates").AtMapKey("devbox"), func(s templatedir.Spec, doc string) error {
					script := filepath.Join(quickstartTemplates, "devbox/container-configs/scripts/10-create-user.sh")
					switch {
					// The trailing comment on TEMPLATE_UNPRIVILEGED must not make it privileged.
					case !s.Defaults.Unprivileged || s.Defaults.Memory != 2048:
						return fmt.Errorf("defaults %+v", s.Defaults)
					case s.Defaults.Features != (templatedir.Features{Nesting: true, Keyctl: true}):
						return fmt.Errorf("features %+v", s.Defaults.Features)
					case s.OSTemplate != "debian-12-standard" || !slices.Equal(s.Tags, []string{"dev", "nodejs", "tooling"}):
						return fmt.Errorf("os_template %q, tags %v", s.OSTemplate, s.Tags)
					// Compact: the script is known by its digest; its content stays in the directory.
					case s.Scripts[1].Name != "10-create-user.sh" || s.Scripts[1].SHA256 != fileSHA256(t, script) ||
						s.Scripts[1].Content != "" || strings.Contains(doc, "useradd"):
						return fmt.Errorf("script %+v", s.Scripts[1])
					case s.Files[0].Name != ".bashrc" || s.Files[0].TargetPath != "/home/dev" || s.Files[0].Policy != "default" ||
						s.Files[0].Mode != "0644" || s.Files[0].Content != "":
						return fmt.Errorf("file %+v", s.Files[0])
					case s.Files[2].Name != "devbox-info" || s.Files[2].Policy != "replace" || s.Files[2].Mode != "0755":
						return fmt.Errorf("file %+v", s.Files[2])
					case s.Packages[0].Bucket != "base" || s.Packages[0].Manager != "apt":
						return fmt.Errorf("package %+v", s.Packages[0])
					case s.Packages[14].Manager != "npm" || s.Packages[14].Name != "@biomejs/biome" || s.Packages[14].Version != "1.8.3":
						return fmt.Errorf("package %+v", s.Packages[14])
					case s.Packages[15].Manager != "custom" || s.Packages[15].Name != "starship" ||
						!strings.Contains(s.Packages[15].Install, "install.sh | sh -s") || s.Packages[15].Timeout != 600:
						return fmt.Errorf("package %+v", s.Packages[15])
					case s.Source != filepath.Join(quickstartTemplates, "devbox") || !sha256RE.MatchString(s.SHA256):
						return fmt.Errorf("source %q, sha256 %q", s.Source, s.SHA256)
					}
					return nil
				}),
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

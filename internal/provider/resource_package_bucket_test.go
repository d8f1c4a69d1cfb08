package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const bucketAddr = "pve_package_bucket.web"

func bucketConfig(file, extra string) string {
	return fmt.Sprintf(`
resource "pve_package_bucket" "web" {
  name        = "web"
  source_file = %q
  package {
    manager = "apt"
    spec    = "curl"
  }
  package {
    manager = "custom"
    spec    = "nvm|command -v nvm|curl -fsSL https://example.invalid/install.sh | bash|600"
  }
  %s
}
`, file, extra)
}

func TestAccPackageBucket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.apt")
	write := func(content string) {
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("nginx\ncurl # also inline\njq=1.6-2\n")
	sameDigest := statecheck.CompareValue(compare.ValuesDiffer())
	row := func(i int, spec, bucket string) statecheck.StateCheck {
		return statecheck.ExpectKnownValue(bucketAddr, tfjsonpath.New("packages").AtSliceIndex(i), knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"spec": knownvalue.StringExact(spec), "bucket": knownvalue.StringExact(bucket),
		}))
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: bucketConfig(file, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(bucketAddr, tfjsonpath.New("packages"), knownvalue.ListSizeExact(4)),
					row(0, "curl", "web"),
					row(1, "nvm", "web"),
					row(2, "nginx", "web"),
					row(3, "jq=1.6-2", "web"),
					statecheck.ExpectKnownValue(bucketAddr, tfjsonpath.New("packages").AtSliceIndex(1), knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"manager": knownvalue.StringExact("custom"), "install": knownvalue.StringExact("curl -fsSL https://example.invalid/install.sh | bash"),
						"timeout": knownvalue.Int64Exact(600),
					})),
					statecheck.ExpectKnownValue(bucketAddr, tfjsonpath.New("packages").AtSliceIndex(3).AtMapKey("version"), knownvalue.StringExact("1.6-2")),
					sameDigest.AddStateValue(bucketAddr, tfjsonpath.New("sha256")),
				},
			},
			{
				ResourceName:                         bucketAddr,
				ImportState:                          true,
				ImportStateId:                        file,
				ImportStateVerifyIdentifierAttribute: "name",
				ImportStateVerify:                    true,
				// Inline rows are configuration, not in the file; an import
				// sees the file's rows only.
				ImportStateVerifyIgnore: []string{"package", "packages", "sha256", "description"},
			},
			{
				// A changed file is a difference in the plan, applied in place.
				PreConfig: func() { write("nginx\njq=1.7-1\nhtop\n") },
				Config:    bucketConfig(file, `description = "web server packages"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(bucketAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(bucketAddr, tfjsonpath.New("packages"), knownvalue.ListSizeExact(5)),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					row(3, "jq=1.7-1", "web"),
					row(4, "htop", "web"),
					sameDigest.AddStateValue(bucketAddr, tfjsonpath.New("sha256")),
				},
			},
			{
				Config:   bucketConfig(file, `description = "web server packages"`),
				PlanOnly: true,
			},
			{
				PreConfig:   func() { write("nginx\n-rf /\n") },
				Config:      bucketConfig(file, ""),
				ExpectError: regexp.MustCompile(`(?s)Invalid Package File.*web.apt:2:`),
			},
			{
				PreConfig:   func() { write("jq=1.7-1\n") },
				Config:      bucketConfig(file, "package {\n manager = \"apt\"\n spec = \"jq=1.6-2\"\n}"),
				ExpectError: regexp.MustCompile(`(?s)Conflicting Package Versions.*jq=1.6-2\s+and\s+jq=1.7-1`),
			},
			{
				Config: `
resource "pve_package_bucket" "web" {
  name = "web"
  package {
    manager = "npm"
    spec    = "left pad"
  }
}
`,
				ExpectError: regexp.MustCompile(`(?s)Invalid Package Spec.*spec\s+=\s+"left pad".*contains whitespace`),
			},
			{
				Config: `
resource "pve_package_bucket" "web" {
  name = "web"
  package {
    manager = "brew"
    spec    = "wget"
  }
}
`,
				ExpectError: regexp.MustCompile(`(?s)manager value must be one of`),
			},
			{
				// Back to a valid configuration, which the final destroy uses.
				PreConfig: func() { write("nginx\n") },
				Config:    bucketConfig(file, ""),
			},
		},
	})
}

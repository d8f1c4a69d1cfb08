package provider

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// goldenBenchContainers is how many devboxes each side of the comparison
// creates.
const goldenBenchContainers = 5

// BenchmarkGoldenImage compares, on real LXC containers, creating five
// devbox containers (examples/quickstart/templates/devbox, offline; see
// devboxOffline) provisioned from scratch with cloning them from a golden
// image of the same template. It reports the seconds of each (plan and
// apply of the five, as Terraform creates them in parallel), the image's
// build, and clones/scratch: the goal is at most 0.25. It fails when a
// package manager fetched anything while the clones were made, or a clone
// has a package index (the image's was cleaned, and none ran since).
func BenchmarkGoldenImage(b *testing.B) {
	be := newE2EBackend(b)
	root := b.TempDir()
	devbox := devboxOffline(b, be, filepath.Join(root, "devbox"))
	env := startE2EEnv(b, be, devbox.repo)
	var scratch, clones, build time.Duration
	runs := 0
	// The timer runs throughout, so that b.Loop sees an iteration take
	// minutes and stops after one; ns/op is the whole iteration, the
	// metrics below its parts.
	for b.Loop() {
		scratch += env.benchScratch(b, root)
		image, cloned := env.benchClones(b, filepath.Join(root, "devbox"))
		build += image
		clones += cloned
		runs++
	}
	if runs == 0 {
		b.Fatal("nothing was measured")
	}
	n := time.Duration(runs)
	b.ReportMetric((scratch / n).Seconds(), "s/5-from-scratch")
	b.ReportMetric((clones / n).Seconds(), "s/5-clones")
	b.ReportMetric((build / n).Seconds(), "s/image-build")
	b.ReportMetric(clones.Seconds()/scratch.Seconds(), "clones/scratch")
	b.Logf("5 devboxes: %s from scratch, %s as clones of a golden image (%.2fx; the image took %s to build)",
		(scratch / n).Round(time.Second), (clones / n).Round(time.Second), clones.Seconds()/scratch.Seconds(), (build / n).Round(time.Second))
}

// devboxContainers declares n devbox containers of template.
func devboxContainers(template string) string {
	return fmt.Sprintf(`
resource "pve_lxc_container" "devbox" {
  count    = %d
  node     = "pve"
  hostname = "devbox-${count.index + 1}"
  template = %s
}
`, goldenBenchContainers, template)
}

// benchScratch creates the devboxes provisioned from scratch and returns
// how long the plan and apply took.
func (e *e2eEnv) benchScratch(b *testing.B, root string) time.Duration {
	b.Helper()
	var started time.Time
	var took time.Duration
	resource.Test(benchT{b}, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkNoContainers,
		Steps: []resource.TestStep{{
			PreConfig: func() { started = time.Now() },
			Config: e.providerBlockSSH() + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path  = %q
  names = ["devbox"]
}
`, root) + devboxContainers(`data.pve_template_discovery.all.templates["devbox"]`),
			Check: func(s *terraform.State) error {
				took = time.Since(started)
				return e.checkDevboxes(s)
			},
		}},
	})
	return took
}

// benchClones builds a golden image of the devbox, then clones the
// devboxes from it; it returns how long the build and the clones took.
func (e *e2eEnv) benchClones(b *testing.B, dir string) (build, clones time.Duration) {
	b.Helper()
	template := e.providerBlockSSH() + fmt.Sprintf(`
resource "pve_lxc_template" "devbox" {
  node       = "pve"
  source_dir = %q
  image {}
}
`, dir)
	var started time.Time
	var served int
	resource.Test(benchT{b}, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             e.checkNoContainers,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { started = time.Now() },
				Config:    template,
				Check: func(*terraform.State) error {
					build = time.Since(started)
					served = len(e.repo.Served())
					return nil
				},
			},
			{
				PreConfig: func() { started = time.Now() },
				Config:    template + devboxContainers("pve_lxc_template.devbox.spec"),
				Check: func(s *terraform.State) error {
					clones = time.Since(started)
					if now := e.repo.Served(); len(now) != served {
						return fmt.Errorf("a package manager fetched from the repository while the clones were made:\n%s", strings.Join(now[served:], "\n"))
					}
					return e.checkDevboxes(s)
				},
			},
		},
	})
	return build, clones
}

// checkDevboxes checks every devbox in state (its user, tools, files and
// credentials) and, for clones, that no package index came back.
func (e *e2eEnv) checkDevboxes(s *terraform.State) error {
	check := devboxCheck(e)
	for i := range goldenBenchContainers {
		addr := fmt.Sprintf("pve_lxc_container.devbox.%d", i)
		vmid, err := stateVMID(s, addr)
		if err != nil {
			return err
		}
		if err := check(vmid); err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		if _, ok := s.RootModule().Resources["pve_lxc_template.devbox"]; !ok {
			continue
		}
		if err := e.expectOutput(vmid, "package index of a clone", `find /var/lib/apt/lists -type f ! -name lock | wc -l`, "0\n"); err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
	}
	return nil
}

package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// fleetSize is the number of containers in each fleet of BenchmarkFleetPlan.
const fleetSize = 100

// BenchmarkFleetPlan measures what a fleet built from one template costs
// compared with plain containers (DESIGN §11: at most 8 KB of state per
// container built from a 100 KB template, a no-change plan at most 1.5×
// that of plain containers). Against one simulator (memory backend, no
// provisioning) it creates 100 plain containers and 100 built from a
// generated template of about 100 KB (12 scripts, 6 files) in two working
// directories, with the real terraform CLI and the provider as its own
// plugin process. Each iteration is a no-change plan of each fleet. It
// reports the attribute bytes a template-built container keeps in state,
// both plans' wall times and their ratio, and the size of the plan output
// after one script of the template changed.
func BenchmarkFleetPlan(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("BenchmarkFleetPlan drives the Terraform CLI; set TF_ACC=1 (make bench does)")
	}
	tf := terraformBinary(b)
	sim := pvesimtest.New(b, pvesimtest.WithoutSSH(), pvesimtest.WithTaskDuration(time.Millisecond),
		pvesimtest.WithTemplates("debian-12-standard_12.7-1_amd64.tar.zst"))
	plain := newBuiltProviderSession(b, tf, writeConfig(b, requiredProviders+countConfig(sim, fleetSize)))
	fleetDir := writeConfig(b, requiredProviders+providerBlock(sim)+fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = "./templates"
}

resource "pve_lxc_container" "t" {
  count    = %d
  node     = "pve"
  hostname = "t${count.index}"
  template = data.pve_template_discovery.all.templates["big"]
}
`, fleetSize))
	templateBytes := writeBigTemplate(b, filepath.Join(fleetDir, "templates", "big"), 1)
	fleet := newBuiltProviderSession(b, tf, fleetDir)
	for _, s := range []*cliSession{plain, fleet} {
		s.run("apply", "-auto-approve")
	}
	templateState := stateBytesPerContainer(b, fleetDir, "pve_lxc_container")
	plainState := stateBytesPerContainer(b, plain.dir, "pve_lxc_container")
	if dir := os.Getenv(cpuProfileEnv); dir != "" {
		fleet.env = append(fleet.env, cpuProfileEnv+"="+dir) // profiles of the template fleet's plans (CONTRIBUTING.md)
	}

	var plainWall, fleetWall time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plainWall += timedNoChangePlan(b, plain)
		fleetWall += timedNoChangePlan(b, fleet)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(templateBytes)/1024, "template-KiB")
	b.ReportMetric(templateState, "state-bytes/template-container")
	b.ReportMetric(plainState, "state-bytes/plain-container")
	b.ReportMetric(float64(plainWall.Milliseconds())/n, "plain-plan-ms")
	b.ReportMetric(float64(fleetWall.Milliseconds())/n, "template-plan-ms")
	b.ReportMetric(float64(fleetWall)/float64(plainWall), "template/plain")

	writeBigTemplate(b, filepath.Join(fleetDir, "templates", "big"), 2) // one script changes
	code, out := fleet.exitCode("plan", "-detailed-exitcode")
	if code != 2 {
		b.Fatalf("the plan after a script change exited %d, want 2 (changes):\n%s", code, out)
	}
	b.ReportMetric(float64(len(out))/1024, "changed-script-plan-KiB")
}

func timedNoChangePlan(b *testing.B, s *cliSession) time.Duration {
	b.Helper()
	start := time.Now()
	code, out := s.exitCode("plan", "-detailed-exitcode")
	took := time.Since(start)
	if code != 0 {
		b.Fatalf("a no-change plan exited %d (2 means it planned changes):\n%s", code, out)
	}
	return took
}

// writeBigTemplate writes a template of about 100 KB: 12 scripts of about
// 6 KB and 6 files of about 4.5 KB of shell-like text. revision changes the
// first script only. It returns the bytes of content written.
func writeBigTemplate(tb testing.TB, dir string, revision int) int {
	tb.Helper()
	files := map[string]string{"template.conf": "TEMPLATE_OS=debian\nTEMPLATE_VERSION=12\nTEMPLATE_RAM=128\nTEMPLATE_DISK=1\n"}
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // filler text, not a secret
	for i := range 12 {
		body := fillerText(rng, 6000)
		if i == 0 {
			body = fmt.Sprintf("# revision %d\n", revision) + body
		}
		files[fmt.Sprintf("container-configs/scripts/%02d-step.sh", 10+i)] = "#!/bin/bash\nset -eu\n" + body
	}
	for i := range 6 {
		name := fmt.Sprintf("container-configs/files/conf%d.conf", i)
		files[name] = fillerText(rng, 4500)
		files[name+".path"] = "/etc/big\n"
		files[name+".policy"] = "replace\n"
	}
	total := 0
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
		total += len(content)
	}
	return total
}

// fillerText is about n bytes of comment lines.
func fillerText(rng *rand.Rand, n int) string {
	words := []string{"install", "configure", "service", "package", "user", "directory", "permission", "network", "restart", "check"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString("# ")
		for range 10 {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		b.WriteString("\n")
	}
	return b.String()
}

// stateBytesPerContainer is the mean size of the JSON attributes of the
// instances of one resource type in dir's terraform.tfstate, without the
// indentation terraform writes the file with.
func stateBytesPerContainer(tb testing.TB, dir, typ string) float64 {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		tb.Fatal(err)
	}
	var state struct {
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes json.RawMessage `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		tb.Fatal(err)
	}
	total, n := 0, 0
	for _, r := range state.Resources {
		if r.Type != typ {
			continue
		}
		for _, inst := range r.Instances {
			var compact bytes.Buffer
			if err := json.Compact(&compact, inst.Attributes); err != nil {
				tb.Fatal(err)
			}
			total += compact.Len()
			n++
		}
	}
	if n == 0 {
		tb.Fatalf("no %s in state", typ)
	}
	return float64(total) / float64(n)
}

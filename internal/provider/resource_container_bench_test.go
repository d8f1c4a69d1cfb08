package provider

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// benchT lets a benchmark drive resource.Test, which wants a *testing.T
// look-alike.
type benchT struct{ *testing.B }

func (benchT) Parallel() {}

// BenchmarkRefresh refreshes 100 containers and reports the API requests a
// refresh costs per container, measured from the simulator's request log.
// The budget is one request per container plus a constant number of shared
// ones.
func BenchmarkRefresh(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("BenchmarkRefresh drives the Terraform CLI; set TF_ACC=1 (make bench does)")
	}
	const containers = 100
	b.Setenv("TF_CLI_ARGS_apply", "-parallelism=20")
	sim := pvesimtest.New(b, pvesimtest.WithTaskDuration(time.Millisecond), pvesimtest.WithTemplates("debian-12-standard_12.7-1_amd64.tar.zst"))
	var requests, refreshes int
	var perPath map[string]int
	steps := []resource.TestStep{{Config: countConfig(sim, containers)}}
	for i := 0; i < b.N; i++ {
		steps = append(steps, resource.TestStep{
			PreConfig:    sim.ResetRequests,
			RefreshState: true,
			Check: func(*terraform.State) error {
				perPath = map[string]int{}
				for _, r := range sim.Requests() {
					perPath[r.Method+" "+pathShape(r.Path)]++
				}
				requests += len(sim.Requests())
				refreshes++
				return nil
			},
		})
	}
	b.ResetTimer()
	resource.Test(benchT{b}, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
	if refreshes == 0 {
		b.Fatal("no refresh was measured")
	}
	perContainer := float64(requests) / float64(refreshes) / containers
	b.ReportMetric(perContainer, "requests/container")
	b.Logf("one refresh of %d containers: %v", containers, perPath)
	if perContainer > 1.1 {
		b.Errorf("a refresh costs %.2f requests per container; the budget is 1 plus O(1) shared requests", perContainer)
	}
}

// pathShape replaces the numbers in an API path, to group requests by kind.
func pathShape(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			parts[i] = "{n}"
		}
	}
	return strings.Join(parts, "/")
}

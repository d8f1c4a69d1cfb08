package provider

import (
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
)

// requiredProviders makes the real CLI take pve from lxctm (dev_overrides);
// the acceptance tests get the same through TF_ACC_PROVIDER_NAMESPACE.
const requiredProviders = `
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}
`

// BenchmarkPlan100 measures a no-change `terraform plan` of 100 containers
// as users run it: the real terraform CLI with its default -parallelism,
// the provider as its own plugin process, and a simulator that answers
// every request 10 ms late. The containers are created once; each
// iteration is one plan. It reports the provider's CPU time per container
// (user and system time of every provider process the plan starts, from
// wait4(2) through the testdata/plugintap stand-in), the wall time of the
// plan, the API requests it makes, the lines the provider writes to stderr
// (its log lines, which terraform drops unless TF_LOG is set) and the
// largest peak resident set size of a provider process.
//
// With TF_PROVIDER_PVE_CPUPROFILE set, the provider processes of the plans
// write CPU profiles there (CONTRIBUTING.md).
func BenchmarkPlan100(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("BenchmarkPlan100 drives the Terraform CLI; set TF_ACC=1 (make bench does)")
	}
	const containers = 100
	tf := terraformBinary(b)
	provider := buildTappedProvider(b)
	sim := startPlanBenchSim(b)
	dir := writeConfig(b, requiredProviders+countConfig(sim, containers))
	if code, out := runTerraform(b, tf, dir, provider.Env(), "apply", "-auto-approve", "-input=false", "-no-color"); code != 0 {
		b.Fatalf("creating %d containers failed (exit %d):\n%s", containers, code, out)
	}

	planEnv := provider.Env(cpuProfileEnv + "=" + os.Getenv(cpuProfileEnv))
	var cpu, wall time.Duration
	var maxRSS int64
	var requests, logLines int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sim.ResetRequests()
		provider.Reset(b)
		start := time.Now()
		code, out := runTerraform(b, tf, dir, planEnv, "plan", "-detailed-exitcode", "-input=false", "-no-color")
		wall += time.Since(start)
		if code != 0 {
			b.Fatalf("a no-change plan exited %d (2 means it planned changes):\n%s", code, out)
		}
		requests += len(sim.Requests())
		planCPU, rss := provider.Usage(b)
		cpu, maxRSS = cpu+planCPU, max(maxRSS, rss)
		logLines += strings.Count(provider.Stderr(b), "\n")
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(cpu.Microseconds())/1000/n/containers, "provider-cpu-ms/container")
	b.ReportMetric(float64(wall.Milliseconds())/n, "wall-ms/plan")
	b.ReportMetric(float64(requests)/n, "requests/plan")
	b.ReportMetric(float64(logLines)/n, "provider-log-lines/plan")
	b.ReportMetric(float64(maxRSS)/(1<<20), "provider-max-rss-MiB")
}

// startPlanBenchSim starts the simulator BenchmarkPlan100 plans against:
// the appliance the containers use is on storage, tasks are quick, and
// every request waits 10 ms, like a PVE host a few hops away.
func startPlanBenchSim(b *testing.B) *pvesimtest.Sim {
	return pvesimtest.New(b,
		pvesimtest.WithoutSSH(),
		pvesimtest.WithTaskDuration(time.Millisecond),
		pvesimtest.WithTemplates("debian-12-standard_12.7-1_amd64.tar.zst"),
		pvesimtest.WithFault(pvesim.Fault{Kind: pvesim.FaultLatency, Delay: 10 * time.Millisecond}),
	)
}

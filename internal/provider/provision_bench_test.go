package provider

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// BenchmarkProvisioning creates and provisions containers with Terraform
// on real LXC containers and reports, per provisioning run, the SSH exec
// sessions it took (ssh-execs/run: the budget is the same small constant
// whatever the template holds) and, per refresh, those of the drift check
// (ssh-execs/refresh). ns/op is the plan and apply of one container:
// create, start and provisioning. "devbox" is
// examples/quickstart/templates/devbox, run offline (see devboxOffline).
func BenchmarkProvisioning(b *testing.B) {
	be := newE2EBackend(b)
	root := b.TempDir()
	devbox := devboxOffline(b, be, filepath.Join(root, "devbox"))
	env := startE2EEnv(b, be, devbox.repo)
	for _, n := range []int{1, 50} {
		writeSizedTemplate(b, filepath.Join(root, fmt.Sprintf("sized-%d", n)), n)
	}

	runExecs := map[string]float64{}
	for _, bench := range []struct {
		name, template string
		check          func(vmid int) error
	}{
		{"scripts+files=1", "sized-1", sizedCheck(env, 1)},
		{"scripts+files=50", "sized-50", sizedCheck(env, 50)},
		{"devbox", "devbox", devboxCheck(env)},
	} {
		b.Run(bench.name, func(b *testing.B) {
			var execs, refreshExecs, runs int
			for b.Loop() {
				b.StopTimer()
				var before int
				resource.Test(benchT{b}, resource.TestCase{
					ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
					CheckDestroy:             env.checkNoContainers,
					Steps: []resource.TestStep{
						{
							PreConfig: func() {
								before = env.ssh.Total()
								b.StartTimer()
							},
							Config: env.providerBlockSSH() + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path  = %q
  names = [%q]
}

resource "pve_lxc_container" "test" {
  node     = "pve"
  template = data.pve_template_discovery.all.templates[%q]
}
`, root, bench.template, bench.template),
							Check: func(s *terraform.State) error {
								b.StopTimer()
								n := env.ssh.Total() - before
								if n == 0 {
									return errors.New("no SSH session was counted: has the node's session log line changed? (sshSessionLine)")
								}
								execs += n
								runs++
								vmid, err := stateVMID(s, e2eAddr)
								if err != nil {
									return err
								}
								return bench.check(vmid)
							},
						},
						{
							PreConfig:    func() { before = env.ssh.Total() },
							RefreshState: true,
							Check: func(*terraform.State) error {
								refreshExecs += env.ssh.Total() - before
								return nil
							},
						},
					},
				})
				b.StartTimer() // b.Loop wants it running
			}
			if runs == 0 {
				b.Fatal("no provisioning run was measured")
			}
			runExecs[bench.name] = float64(execs) / float64(runs)
			b.ReportMetric(runExecs[bench.name], "ssh-execs/run")
			b.ReportMetric(float64(refreshExecs)/float64(runs), "ssh-execs/refresh")
		})
	}
	if small, large := runExecs["scripts+files=1"], runExecs["scripts+files=50"]; small != large {
		b.Errorf("a provisioning run took %.1f SSH execs with 1 script and file but %.1f with 50: the budget is a constant", small, large)
	}
}

// writeSizedTemplate writes a template with n scripts and n files.
func writeSizedTemplate(tb testing.TB, dir string, n int) {
	tb.Helper()
	files := map[string]string{"template.conf": "TEMPLATE_OS=debian\nTEMPLATE_VERSION=12\n"}
	for i := range n {
		files[fmt.Sprintf("container-configs/scripts/%02d-step.sh", i)] = fmt.Sprintf("#!/usr/bin/env bash\nlog_info step %d\necho %d >> /var/log/bench-runs\n", i, i)
		name := fmt.Sprintf("container-configs/files/file-%02d.conf", i)
		files[name] = strings.Repeat(fmt.Sprintf("line %d\n", i), 20)
		files[name+".path"] = "/etc/bench\n"
		files[name+".policy"] = "replace\n"
	}
	writeTree(tb, dir, files)
}

// sizedCheck checks that the n scripts ran and the n files are there.
func sizedCheck(env *e2eEnv, n int) func(vmid int) error {
	return func(vmid int) error {
		return env.expectOutput(vmid, "sized template", `wc -l < /var/log/bench-runs; ls /etc/bench | wc -l`, fmt.Sprintf("%d\n%d\n", n, n))
	}
}

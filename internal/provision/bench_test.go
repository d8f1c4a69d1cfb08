package provision

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// sizedSpec is a template with n scripts, n files and n custom installers
// whose targets live under root.
func sizedSpec(root string, n int) templatedir.Spec {
	spec := templatedir.Spec{Name: fmt.Sprintf("bench-%d", n)}
	for i := range n {
		spec.Scripts = append(spec.Scripts, script(fmt.Sprintf("%02d-step.sh", i), fmt.Sprintf("log_info step %d\necho %d >> %s/scripts.log\n", i, i, root)))
		spec.Files = append(spec.Files, file(fmt.Sprintf("file-%02d.conf", i), root+"/etc/bench", templatedir.PolicyReplace, "0644", strings.Repeat(fmt.Sprintf("line %d\n", i), 20)))
		spec.Packages = append(spec.Packages, custom("tools", fmt.Sprintf("tool-%02d", i), fmt.Sprintf("test -f %s/tool-%02d", root, i), fmt.Sprintf("touch %s/tool-%02d", root, i), 60))
	}
	return spec
}

// BenchmarkProvisionRun runs whole provisioning runs of templates with 1
// and 50 scripts, files and custom installers with the agent on the host
// (dash as /bin/sh). execs/op is the number of commands started per run:
// the budget is one, whatever the template's size.
func BenchmarkProvisionRun(b *testing.B) {
	shell := localShells(b)[0]
	for _, n := range []int{1, 50} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			execs := 0
			var stdinBytes int
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				root := filepath.Join(b.TempDir(), strconv.Itoa(i))
				if err := os.MkdirAll(root, 0o755); err != nil {
					b.Fatal(err)
				}
				run := newRun(b, Request{Spec: sizedSpec(root, n), Create: true})
				in, _ := run.Stdin()
				data, _ := io.ReadAll(in)
				stdinBytes = len(data)
				b.StartTimer()
				execs++
				res := runLocal(b, shell, run, b.TempDir())
				if res.rep.Err() != nil || len(res.rep.Steps) != 2*n+1 {
					b.Fatalf("run: %v, %d steps\n%s", res.rep.Err(), len(res.rep.Steps), res.stdout)
				}
			}
			b.ReportMetric(float64(execs)/float64(b.N), "execs/op")
			b.ReportMetric(float64(stdinBytes), "stdin-bytes")
		})
	}
}

// BenchmarkProvisionLXC is BenchmarkProvisionRun in a real container:
// execs/op counts `pct exec` round trips per provisioning run.
func BenchmarkProvisionLXC(b *testing.B) {
	lxctest.Require(b)
	env := newLXCEnv(b, lxctest.LocalRepoConfig{})
	ct := env.startCT(b, 181)
	for _, n := range []int{1, 50} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var execs int64
			for i := 0; b.Loop(); i++ {
				root := fmt.Sprintf("/srv/bench-%d-%d", n, i)
				ct.sh(b, "mkdir -p "+root)
				run := newRun(b, Request{Spec: sizedSpec(root, n), Create: true})
				p := ct.provision(b, run)
				if p.rep.Err() != nil {
					logProgress(b, p)
					b.Fatal(p.rep.Err())
				}
				execs += p.execs
			}
			b.ReportMetric(float64(execs)/float64(b.N), "execs/op")
		})
	}
}

// BenchmarkDevboxLXC provisions examples/quickstart/templates/devbox in a
// fresh real container; ns/op is the wall time of the provisioning exec
// (creating and starting the container is not timed). The devbox installs
// build tools and Node.js tooling, so its containers get NAT egress to the
// machine's Debian mirror and the npm registry; starship's installer is
// served from the bridge instead of starship.rs.
func BenchmarkDevboxLXC(b *testing.B) {
	lxctest.Require(b)
	tpl, err := templatedir.LoadTemplate(filepath.Join("..", "..", "examples", "quickstart", "templates", "devbox"))
	if err != nil || !tpl.Valid() {
		b.Fatalf("loading devbox: %v %v", err, tpl.Errors)
	}
	ctx := context.Background()
	be := lxctest.NewBackend(b, lxcbackend.Config{Egress: true})
	stubURL := lxctest.ServeFile(b, be, "/install.sh", lxctest.StarshipInstaller)
	spec := tpl.Spec
	spec.Packages = append([]templatedir.Package(nil), spec.Packages...)
	for i, p := range spec.Packages {
		if p.Manager == templatedir.ManagerCustom {
			spec.Packages[i].Install = strings.ReplaceAll(p.Install, "https://starship.rs/install.sh", stubURL)
		}
	}
	env := &lxcEnv{b: be, image: lxctest.Image(b, be)}
	vmid := 190
	for b.Loop() {
		b.StopTimer()
		vmid++
		ct := env.startCT(b, vmid)
		run := newRun(b, Request{Spec: spec, Create: true, Hostname: "devbox"})
		b.StartTimer()
		p := ct.provision(b, run)
		b.StopTimer()
		if p.rep.Err() != nil {
			logProgress(b, p)
			b.Fatal(p.rep.Err())
		}
		b.ReportMetric(float64(p.execs), "execs/op")
		b.Logf("devbox: %d steps, %d services, credentials for %d services", len(p.rep.Steps), len(p.rep.Services), len(p.rep.Credentials))
		info := ct.sh(b, `devbox-info; stat -c '%n %U:%G %a' /home/dev/.bashrc /home/dev/.gitconfig; head -1 /home/dev/.bashrc`)
		b.Logf("inside the devbox:\n%s", info)
		if !strings.Contains(info, "/home/dev/.bashrc dev:dev 644") || !strings.Contains(info, "# ~/.bashrc of the dev user") {
			b.Errorf("the devbox's dotfiles are not the template's")
		}
		if err := be.Destroy(ctx, vmid); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

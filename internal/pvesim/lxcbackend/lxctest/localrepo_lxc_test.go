package lxctest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// TestLocalRepoInsideContainer installs an apt package, a pip package and
// npm packages (from the registry stub and from a tarball URL) inside a
// container that has no egress, from a LocalRepo on the bridge.
func TestLocalRepoInsideContainer(t *testing.T) {
	Require(t)
	b := NewBackend(t, lxcbackend.Config{})
	image := Image(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	repo := ServeRepo(t, b, LocalRepoConfig{
		AptPackages: []string{"hello"},
		PipPackages: []PipPackage{{Name: "pvesim-demo", Version: "1.2.3"}},
		NpmPackages: []NpmPackage{{Name: "pvesim-demo", Version: "1.2.3"}, {Name: "@pvesim/tool", Version: "0.1.0"}},
	})
	// Package managers write all over the shared base, so both kinds of
	// overlay are exercised.
	for _, spec := range []backend.ContainerSpec{Spec(301, image, "dhcp", true), Spec(302, image, "dhcp", false)} {
		vmid := spec.VMID
		t.Run(fmt.Sprintf("CT %d unprivileged=%v", vmid, spec.Unprivileged), func(t *testing.T) {
			if err := b.Create(ctx, spec, func(string) {}); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(ctx, vmid); err != nil {
				t.Fatal(err)
			}
			if got := Sh(t, b, vmid, "cat /etc/apt/sources.list.d/pvesim-local.list"); got != repo.AptSourcesLine()+"\n" {
				t.Fatalf("the guest files were not written: %q", got)
			}

			started := time.Now()
			Sh(t, b, vmid, "apt-get update -q && apt-get install -y -q hello")
			if got := strings.TrimSpace(Sh(t, b, vmid, "hello")); got != "Hello, world!" {
				t.Errorf("hello printed %q", got)
			}
			t.Logf("apt-get update + install: %s", time.Since(started).Round(time.Millisecond))

			started = time.Now()
			Sh(t, b, vmid, "pip install pvesim-demo")
			if got := strings.TrimSpace(Sh(t, b, vmid, `python3 -c 'import pvesim_demo; print(pvesim_demo.hello())'`)); got != "hello from pvesim-demo 1.2.3" {
				t.Errorf("the installed module says %q", got)
			}
			t.Logf("pip install: %s", time.Since(started).Round(time.Millisecond))

			started = time.Now()
			Sh(t, b, vmid, "mkdir -p /srv/app && cd /srv/app && npm install pvesim-demo @pvesim/tool")
			if got := strings.TrimSpace(Sh(t, b, vmid, `cd /srv/app && node -e 'console.log(require("pvesim-demo").hello(), require("@pvesim/tool").version)'`)); got != "hello from pvesim-demo 1.2.3 0.1.0" {
				t.Errorf("the packages from the registry stub say %q", got)
			}
			t.Logf("npm install from the registry stub: %s", time.Since(started).Round(time.Millisecond))

			Sh(t, b, vmid, "npm install -g "+repo.NpmTarballURL("pvesim-demo", "1.2.3"))
			if got := strings.TrimSpace(Sh(t, b, vmid, `node -e 'console.log(require("/usr/local/lib/node_modules/pvesim-demo").version)'`)); got != "1.2.3" {
				t.Errorf("the package installed from its tarball URL says %q", got)
			}
		})
	}

	served := strings.Join(repo.Served(), "\n")
	for _, want := range []string{
		"GET /apt/Packages 200",
		"GET /apt/hello_",
		"GET /pypi/files/pvesim_demo-1.2.3-py3-none-any.whl 200",
		"GET /npm/pvesim-demo 200",
		"GET /npm/@pvesim/tool 200",
		"GET /npm-tarballs/pvesim-demo-1.2.3.tgz 200",
	} {
		if !strings.Contains(served, want) {
			t.Errorf("the repository never answered %q; it served:\n%s", want, served)
		}
	}
}

package provider

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestAccOSTemplateURLE2E builds a real LXC container from an OS image
// the node downloads from a URL: the lxc backend's own Debian image, served
// from a loopback HTTP server the way a team serves its custom images. The
// template directory names the URL (TEMPLATE_OSTEMPLATE), the container
// pins its checksum, boots systemd from the downloaded root filesystem and
// is provisioned over SSH.
func TestAccOSTemplateURLE2E(t *testing.T) {
	env := newE2EEnv(t, lxctest.LocalRepoConfig{})
	image := lxctest.Image(t, env.lxc)
	const file = "debian-12-ci_1.0_amd64.tar.zst"
	sum, err := fileSHA512(image)
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/images/"+file {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			fetches.Add(1)
		}
		http.ServeFile(w, r, image)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	for name, content := range map[string]string{
		"ci/template.conf":                        "TEMPLATE_OSTEMPLATE=" + srv.URL + "/images/" + file + "\n",
		"ci/container-configs/scripts/10-mark.sh": "#!/usr/bin/env bash\nset -euo pipefail\n. /etc/os-release\necho \"debian $VERSION_ID\" > /root/built-from\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // a test template
			t.Fatal(err)
		}
		writeTemplateFile(t, path, content)
	}
	config := env.providerBlockSSH() + fmt.Sprintf(`
data "pve_template_discovery" "all" {
  path = %q
}

resource "pve_lxc_container" "test" {
  node                 = "pve"
  hostname             = "from-url"
  template             = data.pve_template_discovery.all.templates["ci"]
  os_template_checksum = "sha512:%s"
}
`, dir, sum)
	var vmid int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             env.checkNoContainers,
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				func(s *terraform.State) (err error) {
					vmid, err = stateVMID(s, e2eAddr)
					return err
				},
				func(*terraform.State) error {
					if n := fetches.Load(); n != 1 {
						return fmt.Errorf("the image was fetched %d times, want 1", n)
					}
					if vols := env.sim.Volumes("pve", "local"); len(vols) != 1 || vols[0].VolID != "local:vztmpl/"+file {
						return fmt.Errorf("the node's local storage holds %+v, want the downloaded image", vols)
					}
					return nil
				},
				func(*terraform.State) error { return env.expectOutput(vmid, "init", "cat /proc/1/comm", "systemd\n") },
				func(*terraform.State) error {
					return env.expectOutput(vmid, "provisioning", "cat /root/built-from", "debian 12\n")
				},
			),
		}},
	})
}

// fileSHA512 is the hex SHA-512 of a file.
func fileSHA512(path string) (string, error) {
	f, err := os.Open(path) //nolint:gosec // a test's own image file
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

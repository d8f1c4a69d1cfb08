package provider

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// urlImageHost is a loopback HTTPS server that serves OS images, as a
// team's artifact server would, and counts how often each was fetched.
type urlImageHost struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	gets  map[string]int
}

func newURLImageHost(t *testing.T, files map[string][]byte) *urlImageHost {
	t.Helper()
	h := &urlImageHost{files: files, gets: map[string]int{}}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		if r.Method == http.MethodGet {
			h.gets[r.URL.Path]++
		}
		data, ok := h.files[r.URL.Path]
		h.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	h.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
	h.StartTLS()
	t.Cleanup(h.Close)
	return h
}

// trustedBy is the simulator option that makes its nodes trust the host.
func (h *urlImageHost) trustedBy() pvesimtest.Option {
	pool := x509.NewCertPool()
	pool.AddCert(h.Certificate())
	return pvesimtest.WithDownloadRootCAs(pool)
}

func (h *urlImageHost) fetches(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gets[path]
}

func sha256Of(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func sha512Of(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512:" + hex.EncodeToString(sum[:])
}

const urlImageFile = "debian-12-custom_1.0_amd64.tar.zst"

// containersFrom counts the simulator's create requests whose ostemplate
// is volid.
func containersFrom(sim *pvesimtest.Sim, node, volid string) int {
	n := 0
	for _, r := range sim.Requests() {
		if r.Method == http.MethodPost && r.Path == "/api2/json/nodes/"+node+"/lxc" && r.Status == http.StatusOK && r.Params["ostemplate"] == volid {
			n++
		}
	}
	return n
}

// A URL os_template: several containers on two nodes and a template share
// one download per node; an image removed from a node is downloaded again.
func TestAccContainer_osTemplateURL(t *testing.T) {
	image := []byte("the team's own Debian image, built in CI")
	host := newURLImageHost(t, map[string][]byte{"/images/" + urlImageFile: image})
	sim := newSim(t, pvesimtest.WithNodes("pve", "pve2"), host.trustedBy())
	imageURL := host.URL + "/images/" + urlImageFile
	volid := "local:vztmpl/" + urlImageFile
	cfg := func(extra string) string {
		return providerBlock(sim) + fmt.Sprintf(`
locals {
  image_url = %[1]q
  checksum  = %[2]q
}

resource "pve_lxc_container" "pve" {
  count                = 3
  node                 = "pve"
  hostname             = "box${count.index}"
  os_template          = local.image_url
  os_template_checksum = local.checksum
}

resource "pve_lxc_container" "pve2" {
  count                = 2
  node                 = "pve2"
  hostname             = "other${count.index}"
  os_template          = local.image_url
  os_template_checksum = local.checksum
}

resource "pve_lxc_template" "custom" {
  node                 = "pve"
  source_spec = jsonencode({
    name        = "custom"
    os_template = "debian-12-standard"
    defaults    = { cores = 1, memory = 256, swap = 0, disk_size = 2, unprivileged = true }
  })
  os_template          = local.image_url
  os_template_checksum = local.checksum
}

resource "pve_lxc_container" "from_template" {
  node     = "pve"
  hostname = "templated"
  template = pve_lxc_template.custom.spec
}
%[3]s
`, imageURL, sha256Of(image), extra)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := len(sim.Containers()); n != 0 {
				return fmt.Errorf("%d containers left", n)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pve_lxc_template.custom", tfjsonpath.New("os_template_volid"), knownvalue.StringExact(volid)),
					statecheck.ExpectKnownValue("pve_lxc_container.from_template", tfjsonpath.New("os_template"), knownvalue.StringExact(imageURL)),
					statecheck.ExpectKnownValue("pve_lxc_container.pve[0]", tfjsonpath.New("os_template_checksum"), knownvalue.StringExact(sha256Of(image))),
				},
				Check: func(*terraform.State) error {
					if n := host.fetches("/images/" + urlImageFile); n != 2 {
						return fmt.Errorf("the image was fetched %d times, want once per node (2)", n)
					}
					if got := containersFrom(sim, "pve", volid); got != 4 {
						return fmt.Errorf("%d containers on pve were created from %s, want 4", got, volid)
					}
					if got := containersFrom(sim, "pve2", volid); got != 2 {
						return fmt.Errorf("%d containers on pve2 were created from %s, want 2", got, volid)
					}
					for _, n := range []string{"pve", "pve2"} {
						if vols := sim.Volumes(n, "local"); len(vols) != 1 || vols[0].VolID != volid || vols[0].Size != int64(len(image)) {
							return fmt.Errorf("%s's local storage holds %+v, want the one image", n, vols)
						}
					}
					return nil
				},
			},
			{Config: cfg(""), PlanOnly: true},
			{
				// The image removed from pve: the template downloads it again
				// and a new container uses it; nothing else changes.
				PreConfig: func() {
					if _, err := simClient(t, sim).DeleteVolume(context.Background(), "pve", "local", volid); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg(`
resource "pve_lxc_container" "late" {
  node                 = "pve"
  hostname             = "late"
  os_template          = local.image_url
  os_template_checksum = local.checksum
}
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pve_lxc_template.custom", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("pve_lxc_container.pve[0]", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("pve_lxc_container.from_template", plancheck.ResourceActionNoop),
				}},
				Check: func(*terraform.State) error {
					if n := host.fetches("/images/" + urlImageFile); n != 3 {
						return fmt.Errorf("the image was fetched %d times in all, want 3 (once more for pve)", n)
					}
					if vols := sim.Volumes("pve", "local"); len(vols) != 1 || vols[0].VolID != volid {
						return fmt.Errorf("pve's local storage holds %+v after the re-download", vols)
					}
					return nil
				},
			},
		},
	})
}

// Changing the checksum of a container's image replaces it; setting one
// where there was none does not.
func TestAccContainer_osTemplateChecksumChanges(t *testing.T) {
	image := []byte("image v1")
	host := newURLImageHost(t, map[string][]byte{"/" + urlImageFile: image})
	sim := newSim(t, host.trustedBy())
	cfg := func(checksum string) string {
		line := ""
		if checksum != "" {
			line = fmt.Sprintf("os_template_checksum = %q", checksum)
		}
		return providerBlock(sim) + fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node        = "pve"
  os_template = %q
  %s
}
`, host.URL+"/"+urlImageFile, line)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("")},
			{
				Config: cfg(sha256Of(image)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionUpdate),
				}},
			},
			{
				Config: cfg(sha512Of(image)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(ctAddr, plancheck.ResourceActionReplace),
				}},
				Check: func(*terraform.State) error {
					if n := host.fetches("/" + urlImageFile); n != 1 {
						return fmt.Errorf("the image was fetched %d times, want 1: the file on the node was verified, not fetched again", n)
					}
					return nil
				},
			},
		},
	})
}

// A wrong checksum: a clear error naming the mismatch, and nothing created
// or stored.
func TestAccContainer_osTemplateURLChecksumMismatch(t *testing.T) {
	image := []byte("what the server has")
	host := newURLImageHost(t, map[string][]byte{"/" + urlImageFile: image})
	sim := newSim(t, host.trustedBy())
	wrong := sha256Of([]byte("what the configuration expects"))
	mismatch := regexp.MustCompile(`(?s)OS Image Checksum Mismatch.*checksum\s+mismatch.*` + strings.TrimPrefix(sha256Of(image), "sha256:") +
		`.*not\s+the\s+expected\s+` + strings.TrimPrefix(wrong, "sha256:") + `.*nothing\s+was\s+stored`)
	for name, body := range map[string]string{
		"container": fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node                 = "pve"
  os_template          = %q
  os_template_checksum = %q
}
`, host.URL+"/"+urlImageFile, wrong),
		"template": fmt.Sprintf(`
resource "pve_lxc_template" "t" {
  node                 = "pve"
  source_spec          = jsonencode({ name = "t", os_template = %q })
  os_template_checksum = %q
}
`, host.URL+"/"+urlImageFile, wrong),
	} {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      providerBlock(sim) + body,
					ExpectError: mismatch,
				}},
			})
			if n := len(sim.Containers()); n != 0 {
				t.Errorf("%d containers exist after the mismatch", n)
			}
			if vols := sim.Volumes("pve", "local"); len(vols) != 0 {
				t.Errorf("the mismatching image was stored: %+v", vols)
			}
		})
	}
	if n := countRequests(sim, http.MethodPost, "/nodes/pve/lxc"); n != 0 {
		t.Errorf("%d create requests after checksum mismatches", n)
	}
}

func TestAccContainer_osTemplateChecksumValidation(t *testing.T) {
	sim := newSim(t)
	cases := map[string]struct{ body, want string }{
		"malformed": {`
resource "pve_lxc_container" "test" {
  node                 = "pve"
  os_template          = "https://images.example/x.tar.zst"
  os_template_checksum = "sha256:abc"
}`, `(?s)Invalid OS Image Checksum.*a sha256 checksum is 64\s+hex\s+digits`},
		"unknown algorithm": {`
resource "pve_lxc_container" "test" {
  node                 = "pve"
  os_template          = "https://images.example/x.tar.zst"
  os_template_checksum = "md5:0123456789abcdef0123456789abcdef"
}`, `(?s)Invalid OS Image Checksum.*is not a checksum: write sha256:<64\s+hex\s+digits>`},
		"container without a URL": {fmt.Sprintf(`
resource "pve_lxc_container" "test" {
  node                 = "pve"
  os_template          = "debian-12-standard"
  os_template_checksum = %q
}`, sha256Of(nil)), `(?s)Checksum Without an Image URL.*"debian-12-standard"`},
		"template without a URL": {fmt.Sprintf(`
resource "pve_lxc_template" "t" {
  node                 = "pve"
  source_spec          = jsonencode({ name = "t", os_template = "debian-12-standard" })
  os_template_checksum = %q
}`, sha256Of(nil)), `(?s)Checksum Without an Image URL`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      providerBlock(sim) + tc.body,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
	for _, r := range sim.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("a refused configuration sent %s %s", r.Method, r.Path)
		}
	}
}

package pvesim

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// appliance is one record of the appliance index (aplinfo.dat).
type appliance struct {
	Template     string
	Package      string
	Version      string
	OS           string
	Headline     string
	Description  string
	Architecture string
}

// applianceIndexURL stands for the index the records come from; the
// simulator never downloads anything, so it names a reserved domain.
const applianceIndexURL = "https://images.pvesim.invalid/aplinfo-pve-9.dat"

// appliances is the simulator's appliance index: PVE's system templates.
var appliances = []appliance{
	{"alpine-3.22-default_20250617_amd64.tar.xz", "alpine-3.22-default", "20250617", "alpine", "Alpine Linux 3.22", "A small, security-oriented Linux distribution based on musl libc and busybox.", "amd64"},
	{"debian-12-standard_12.7-1_amd64.tar.zst", "debian-12-standard", "12.7-1", "debian-12", "Debian 12 (standard)", "Debian 12 Bookworm (standard)\n A small Debian Bookworm system including all standard packages.", "amd64"},
	{"debian-13-standard_13.1-2_amd64.tar.zst", "debian-13-standard", "13.1-2", "debian-13", "Debian 13 (standard)", "Debian 13 Trixie (standard)\n A small Debian Trixie system including all standard packages.", "amd64"},
	{"rockylinux-9-default_20240912_amd64.tar.xz", "rockylinux-9-default", "20240912", "rockylinux", "Rocky Linux 9", "Rocky Linux is a community enterprise operating system designed to be 100% bug-for-bug compatible with Red Hat Enterprise Linux.", "amd64"},
	{"ubuntu-22.04-standard_22.04-1_amd64.tar.zst", "ubuntu-22.04-standard", "22.04-1", "ubuntu-22.04", "Ubuntu 22.04 Jammy (standard)", "Ubuntu 22.04 Jammy (standard)\n A small Ubuntu 22.04 Jammy Jellyfish system including all standard packages.", "amd64"},
	{"ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "ubuntu-24.04-standard", "24.04-2", "ubuntu-24.04", "Ubuntu 24.04 Noble (standard)", "Ubuntu 24.04 Noble (standard)\n A small Ubuntu 24.04 Noble Numbat system including all standard packages.", "amd64"},
}

func findAppliance(template string) (appliance, bool) {
	for _, a := range appliances {
		if a.Template == template {
			return a, true
		}
	}
	return appliance{}, false
}

// templateAppliance resolves a name of Config.Templates: an appliance name
// ("debian-12-standard", meaning its newest indexed version, as the
// provider resolves it), an entry of the appliance index, or another version
// of an indexed appliance ("<package>_<version>_<arch>.tar.<ext>"). A node
// keeps the versions it downloaded earlier after the index has moved on, and
// image lookups must choose among them.
func templateAppliance(file string) (appliance, bool) {
	if a, ok := findAppliance(file); ok {
		return a, true
	}
	if a, ok := newestAppliance(file); ok {
		return a, true
	}
	pkg, rest, ok := strings.Cut(file, "_")
	version, _, hasArch := strings.Cut(rest, "_")
	if !ok || !hasArch || version == "" || strings.ContainsAny(file, "/\\") || templateFormat(file) == "" {
		return appliance{}, false
	}
	for _, a := range appliances {
		if a.Package == pkg {
			a.Template, a.Version = file, version
			return a, true
		}
	}
	return appliance{}, false
}

// newestAppliance is the newest indexed version of the appliance name.
func newestAppliance(name string) (appliance, bool) {
	var best appliance
	found := false
	for _, a := range appliances {
		if pveformat.ApplianceMatches(name, a.Template) && (!found || pveformat.CompareApplianceVersions(a.Template, best.Template) > 0) {
			best, found = a, true
		}
	}
	return best, found
}

// sha512sum is the index's checksum field. The simulator's images are
// placeholders, so this is the SHA-512 of the template name: a stable
// value of the right shape, never verified.
func (a appliance) sha512sum() string {
	sum := sha512.Sum512([]byte(a.Template))
	return hex.EncodeToString(sum[:])
}

func (a appliance) record() map[string]any {
	return map[string]any{
		"template": a.Template, "type": "lxc", "package": a.Package, "version": a.Version, "os": a.OS,
		"section": "system", "headline": a.Headline, "description": a.Description,
		"location":     "https://images.pvesim.invalid/system/" + a.Template,
		"infopage":     "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
		"maintainer":   "Proxmox Support Team <support@proxmox.com>",
		"architecture": a.Architecture, "sha512sum": a.sha512sum(), "source": applianceIndexURL,
	}
}

// handleAplinfoList is GET /nodes/{node}/aplinfo.
func (s *Server) handleAplinfoList(*request) (any, error) {
	out := make([]map[string]any, 0, len(appliances))
	for _, a := range appliances {
		out = append(out, a.record())
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["template"].(string) < out[j]["template"].(string) }) //nolint:forcetypeassert // set above.
	return out, nil
}

// handleAplinfoDownload is POST /nodes/{node}/aplinfo: a "download" task
// makes the backend prepare the image in the storage's template/cache/ and
// registers the vztmpl volume.
func (s *Server) handleAplinfoDownload(q *request) (any, error) {
	a, ok := findAppliance(q.str("template"))
	if !ok {
		return nil, paramErr1("template", "no such template")
	}
	sc, err := s.storageOrErr(q.str("storage"))
	if err != nil {
		return nil, err
	}
	if !sc.has("vztmpl") {
		return nil, errf("storage '%s' does not support templates", sc.ID)
	}
	node := q.node()
	t := s.startTask(node, "download", a.Template, q.who, 0, q.lockFail, func(ctx context.Context, t *task) error {
		return s.downloadTemplate(ctx, t, node, sc, a)
	})
	return t.upid, nil
}

func (s *Server) downloadTemplate(ctx context.Context, t *task, node string, sc StorageConfig, a appliance) error {
	volid := sc.ID + ":vztmpl/" + a.Template
	s.mu.Lock()
	_, exists := s.volumeLocked(node, volid)
	s.mu.Unlock()
	if exists {
		t.log("OK, got correct file already, no need to download")
		return nil
	}
	location := "https://images.pvesim.invalid/system/" + a.Template
	dest := contentFile{sc: sc, content: "vztmpl", file: a.Template}.nodePath()
	t.log("downloading %s to %s", location, dest)
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("download")); err != nil {
		return err
	}
	if err := s.storeTemplate(ctx, node, sc, a, func(line string) { t.log("%s", line) }); err != nil {
		return err
	}
	t.log("download of '%s' to '%s' finished", location, dest)
	return nil
}

// storeTemplate has the backend prepare the image file and registers the
// vztmpl volume.
func (s *Server) storeTemplate(ctx context.Context, node string, sc StorageConfig, a appliance, log func(string)) error {
	f := contentFile{sc: sc, content: "vztmpl", file: a.Template}
	path := filepath.Join(s.nodeFS(node), f.rel())
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	if err := s.backend.PrepareImage(ctx, a.Template, path, log); err != nil {
		return fmt.Errorf("download failed: %w", err)
	}
	sum, err := fileDigest("sha512", path)
	if err != nil {
		return err
	}
	log(fmt.Sprintf("sha512 of the downloaded file: %s (the simulator does not verify index checksums)", sum))
	return s.registerContentFile(node, f)
}

// installTemplates puts Config.Templates on every node's "local" storage.
func (s *Server) installTemplates(ctx context.Context) error {
	sc, ok := s.storage("local")
	if !ok || len(s.cfg.Templates) == 0 {
		return nil
	}
	for _, name := range s.cfg.Templates {
		a, ok := templateAppliance(name)
		if !ok {
			known := make([]string, 0, len(appliances))
			for _, a := range appliances {
				known = append(known, a.Template)
			}
			return fmt.Errorf("template %q is neither an appliance name, nor in the appliance index, nor another version of an appliance in it (%s)", name, strings.Join(known, ", "))
		}
		for _, node := range s.cfg.Nodes {
			s.mu.Lock()
			_, exists := s.volumeLocked(node, sc.ID+":vztmpl/"+a.Template)
			s.mu.Unlock()
			if exists {
				continue
			}
			if err := s.storeTemplate(ctx, node, sc, a, func(string) {}); err != nil {
				return fmt.Errorf("template %s on %s: %w", name, node, err)
			}
		}
	}
	return nil
}

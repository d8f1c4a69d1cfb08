package lxcbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// imageIncludes are the packages added to Debian's minbase: systemd as init
// (containers boot like the real template), ifupdown and iproute2 (the
// network files Proxmox VE writes, `ss` for service discovery),
// ca-certificates, procps, ping, curl, and pip and npm so provisioning's
// package managers can be exercised against local package sources.
var imageIncludes = []string{
	"systemd-sysv", "ifupdown", "iproute2", "ca-certificates", "procps",
	"iputils-ping", "curl", "python3-pip", "npm",
}

// imageDpkgOptions keep documentation and translations out of the image
// (and out of later installs inside it): a quarter of its size, none of
// its behaviour.
var imageDpkgOptions = []string{
	"path-exclude=/usr/share/man/*",
	"path-exclude=/usr/share/doc/*",
	"path-include=/usr/share/doc/*/copyright",
	"path-exclude=/usr/share/locale/*",
	"path-include=/usr/share/locale/locale.alias",
	"path-exclude=/usr/share/info/*",
}

// imageRecipeFormat changes whenever the build changes in a way the recipe
// fields do not show, so old cached images are not reused.
const imageRecipeFormat = 1

// debianSuites maps Debian major versions to the suites an image can be
// built from.
var debianSuites = map[int]string{11: "bullseye", 12: "bookworm", 13: "trixie"}

// applianceName matches Proxmox VE appliance template names such as
// debian-12-standard_12.7-1_amd64.tar.zst; the architecture part is optional.
var applianceName = regexp.MustCompile(`^([a-z]+)-(\d+)[-_.]([^_]*)(?:_[^_]+_([a-z0-9]+))?`)

// imageRecipe is everything that determines an image's content. Its hash
// names the cached file, so a changed recipe builds a new image.
type imageRecipe struct {
	Format   int      `json:"format"`
	Version  int      `json:"version"`
	Suite    string   `json:"suite"`
	Arch     string   `json:"arch"`
	Include  []string `json:"include"`
	DpkgOpts []string `json:"dpkg_options"`
	Mirror   string   `json:"mirror"`
}

// cacheName is the file name of the recipe's image in the cache.
func (r imageRecipe) cacheName() string {
	data, _ := json.Marshal(r) // a struct of strings and ints always marshals
	sum := sha256.Sum256(data)
	return fmt.Sprintf("debian-%d-%s-%s.tar.zst", r.Version, r.Arch, hex.EncodeToString(sum[:8]))
}

// recipeFor turns an appliance name into a build recipe, or explains why it
// cannot be built here.
func recipeFor(appliance, etcApt string) (imageRecipe, error) {
	m := applianceName.FindStringSubmatch(appliance)
	if m == nil {
		return imageRecipe{}, fmt.Errorf("appliance %q: not a Proxmox VE template name (<os>-<version>-<flavour>_<release>_<arch>.tar.zst); only Debian images can be built offline here", appliance)
	}
	osName, arch := m[1], m[4]
	if osName != "debian" {
		return imageRecipe{}, fmt.Errorf("appliance %q: only Debian images can be built offline here (with mmdebstrap from the machine's apt source); %s images cannot", appliance, osName)
	}
	version, err := strconv.Atoi(m[2])
	if err != nil {
		return imageRecipe{}, fmt.Errorf("appliance %q: bad Debian version %q", appliance, m[2])
	}
	suite, ok := debianSuites[version]
	if !ok {
		return imageRecipe{}, fmt.Errorf("appliance %q: Debian %d cannot be built here (supported: 11, 12, 13)", appliance, version)
	}
	hostArch := debianArch()
	if arch != "" && arch != hostArch {
		return imageRecipe{}, fmt.Errorf("appliance %q: architecture %s cannot run on this %s host", appliance, arch, hostArch)
	}
	mirror, err := debianMirror(etcApt, suite)
	if err != nil {
		return imageRecipe{}, fmt.Errorf("appliance %q: %w", appliance, err)
	}
	return imageRecipe{
		Format:   imageRecipeFormat,
		Version:  version,
		Suite:    suite,
		Arch:     hostArch,
		Include:  imageIncludes,
		DpkgOpts: imageDpkgOptions,
		Mirror:   mirror,
	}, nil
}

// debianArch is the host's architecture in Debian's spelling.
func debianArch() string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	default:
		return runtime.GOARCH
	}
}

// PrepareImage makes the OS image for a Debian appliance available at path.
// The image is built once per recipe with mmdebstrap from the machine's own
// apt source and kept in the cache directory; later calls, from any
// simulator, hard-link (or copy) the cached file. Other distributions fail
// with a clear error: nothing but Debian can be built offline here.
func (b *Backend) PrepareImage(ctx context.Context, appliance, path string, log func(string)) error {
	recipe, err := recipeFor(appliance, aptSourcesDir)
	if err != nil {
		return err
	}
	cached, err := b.ensureImage(ctx, recipe, log)
	if err != nil {
		return fmt.Errorf("appliance %s: %w", appliance, err)
	}
	if err := linkOrCopy(cached, path); err != nil {
		return fmt.Errorf("appliance %s: %w", appliance, err)
	}
	log(fmt.Sprintf("image %s ready at %s", filepath.Base(cached), path))
	return nil
}

// ensureImage returns the cached image of recipe, building it first when it
// is missing. Builders in other processes wait on a lock file; the image is
// written under a temporary name and renamed, so a reader never sees half
// a file.
func (b *Backend) ensureImage(ctx context.Context, recipe imageRecipe, log func(string)) (string, error) {
	cached := filepath.Join(b.cacheDir, recipe.cacheName())
	if _, err := os.Stat(cached); err == nil {
		return cached, nil
	}
	if err := os.MkdirAll(b.cacheDir, 0o750); err != nil {
		return "", fmt.Errorf("image cache: %w", err)
	}
	release, err := lockFile(ctx, cached+".lock")
	if err != nil {
		return "", err
	}
	defer release()
	if _, err := os.Stat(cached); err == nil {
		return cached, nil
	}
	tmp := filepath.Join(b.cacheDir, fmt.Sprintf(".build-%d-%s", os.Getpid(), recipe.cacheName()))
	defer func() { _ = os.Remove(tmp) }()
	args := []string{
		"--variant=minbase",
		"--arch=" + recipe.Arch,
		"--include=" + strings.Join(recipe.Include, ","),
		`--aptopt=Acquire::Languages "none"`,
	}
	for _, opt := range recipe.DpkgOpts {
		args = append(args, "--dpkgopt="+opt)
	}
	args = append(args, recipe.Suite, tmp, fmt.Sprintf("deb %s %s main", recipe.Mirror, recipe.Suite))
	log(fmt.Sprintf("building Debian %d (%s) image with mmdebstrap from %s", recipe.Version, recipe.Suite, recipe.Mirror))
	started := time.Now()
	if err := runCommandLogged(ctx, log, "mmdebstrap", args...); err != nil {
		return "", fmt.Errorf("building the image: %w", err)
	}
	if err := os.Rename(tmp, cached); err != nil {
		return "", fmt.Errorf("image cache: %w", err)
	}
	if info, err := os.Stat(cached); err == nil {
		log(fmt.Sprintf("built %s: %d MB in %s", filepath.Base(cached), info.Size()>>20, time.Since(started).Round(time.Second)))
	}
	return cached, nil
}

// linkOrCopy puts src at dst, hard-linked when both are on one file system,
// replacing dst atomically.
func linkOrCopy(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := copyFile(src, tmp); err != nil {
			_ = os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// copyFile copies a regular file's content to a new file.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644) //nolint:gosec // template volumes are world-readable on Proxmox VE too
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}

package lxcbackend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEtcApt is an apt configuration with one Debian source.
func fakeEtcApt(t *testing.T, uri string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sources.list"), []byte("deb "+uri+" bookworm main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRecipeFor(t *testing.T) {
	etcApt := fakeEtcApt(t, "http://mirror.invalid/debian")
	tests := []struct {
		appliance string
		suite     string
		wantErr   string
	}{
		{appliance: "debian-12-standard_12.7-1_amd64.tar.zst", suite: "bookworm"},
		{appliance: "debian-11-standard_11.7-1_amd64.tar.zst", suite: "bullseye"},
		{appliance: "debian-13-standard_13.1-2_amd64.tar.zst", suite: "trixie"},
		{appliance: "debian-12-standard", suite: "bookworm"},
		{appliance: "ubuntu-24.04-standard_24.04-2_amd64.tar.zst", wantErr: "only Debian images can be built offline here"},
		{appliance: "alpine-3.20-default_20240908_amd64.tar.xz", wantErr: "only Debian images can be built offline here"},
		{appliance: "archlinux-base_20240911-1_amd64.tar.zst", wantErr: "only Debian images can be built offline here"},
		{appliance: "debian-10-standard_10.7-1_amd64.tar.gz", wantErr: "Debian 10 cannot be built here"},
		{appliance: "debian-12-standard_12.7-1_riscv64.tar.zst", wantErr: "architecture riscv64 cannot run"},
	}
	for _, tt := range tests {
		t.Run(tt.appliance, func(t *testing.T) {
			recipe, err := recipeFor(tt.appliance, etcApt)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want an error containing %q", recipe, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if recipe.Suite != tt.suite || recipe.Mirror != "http://mirror.invalid/debian" || recipe.Arch != debianArch() {
				t.Fatalf("recipe %+v", recipe)
			}
		})
	}
}

func TestImageCacheNameFollowsTheRecipe(t *testing.T) {
	a, err := recipeFor("debian-12-standard_12.7-1_amd64.tar.zst", fakeEtcApt(t, "http://one.invalid/debian"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := recipeFor("debian-12-standard_12.9-1_amd64.tar.zst", fakeEtcApt(t, "http://one.invalid/debian"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := recipeFor("debian-12-standard_12.7-1_amd64.tar.zst", fakeEtcApt(t, "http://two.invalid/debian"))
	if err != nil {
		t.Fatal(err)
	}
	if a.cacheName() != b.cacheName() {
		t.Errorf("two releases of one appliance build different images: %s, %s", a.cacheName(), b.cacheName())
	}
	if a.cacheName() == c.cacheName() {
		t.Errorf("a different mirror reuses the image %s", a.cacheName())
	}
	withoutNpm := a
	withoutNpm.Include = []string{"systemd-sysv"}
	if a.cacheName() == withoutNpm.cacheName() {
		t.Errorf("a different package list reuses the image %s", a.cacheName())
	}
	if !strings.HasPrefix(a.cacheName(), "debian-12-"+debianArch()+"-") || !strings.HasSuffix(a.cacheName(), ".tar.zst") {
		t.Errorf("cache name %s", a.cacheName())
	}
}

func TestPrepareImageRefusesOtherDistributions(t *testing.T) {
	b := &Backend{cacheDir: t.TempDir()}
	path := filepath.Join(t.TempDir(), "ubuntu.tar.zst")
	err := b.PrepareImage(context.Background(), "ubuntu-24.04-standard_24.04-2_amd64.tar.zst", path, func(string) {})
	if err == nil || !strings.Contains(err.Error(), "only Debian images can be built offline here") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a file appeared at %s", path)
	}
}

func TestPrepareImageLinksTheCachedImage(t *testing.T) {
	recipe, err := recipeFor("debian-12-standard_12.7-1_amd64.tar.zst", aptSourcesDir)
	if err != nil {
		t.Skipf("this machine has no Debian apt source: %v", err)
	}
	cacheDir := t.TempDir()
	cached := filepath.Join(cacheDir, recipe.cacheName())
	if err := os.WriteFile(cached, []byte("image"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &Backend{cacheDir: cacheDir}
	path := filepath.Join(t.TempDir(), "template", "cache", "debian-12-standard_12.7-1_amd64.tar.zst")
	var log []string
	if err := b.PrepareImage(context.Background(), "debian-12-standard_12.7-1_amd64.tar.zst", path, func(l string) { log = append(log, l) }); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "image" {
		t.Fatalf("the volume holds %q, %v", data, err)
	}
	if strings.Contains(strings.Join(log, "\n"), "building") {
		t.Fatalf("a cached image was rebuilt:\n%s", strings.Join(log, "\n"))
	}
	if err := b.PrepareImage(context.Background(), "debian-12-standard_12.7-1_amd64.tar.zst", path, func(string) {}); err != nil {
		t.Fatalf("preparing over an existing volume: %v", err)
	}
}

package pveapi

import (
	"testing"
)

// The OS-image helpers decide which vztmpl volume a template or container
// uses, so each rule is pinned here; FindOSImage and EnsureOSImage are
// exercised end to end against the simulator in simulator_test.go (an
// external test package, because the simulator may import this one).

const (
	debian127  = "debian-12-standard_12.7-1_amd64.tar.zst"
	debian1210 = "debian-12-standard_12.10-1_amd64.tar.zst"
)

func TestSplitVolID(t *testing.T) {
	cases := []struct {
		ref         string
		storage     string
		file        string
		wantSplitOK bool
	}{
		{ref: "local:vztmpl/" + debian127, storage: "local", file: debian127, wantSplitOK: true},
		{ref: "local:" + debian127, storage: "local", file: debian127, wantSplitOK: true},
		{ref: "nfs-templates:vztmpl/" + debian127, storage: "nfs-templates", file: debian127, wantSplitOK: true},
		// A volid copied out of an API URL has its "/" percent-encoded.
		{ref: "local:vztmpl%2F" + debian127, storage: "local", file: debian127, wantSplitOK: true},
		{ref: "local:vztmpl/my%20image_1.0_amd64.tar.gz", storage: "local", file: "my image_1.0_amd64.tar.gz", wantSplitOK: true},
		// An invalid escape is kept as written rather than rejected.
		{ref: "local:vztmpl/bad%zzname.tar.gz", storage: "local", file: "bad%zzname.tar.gz", wantSplitOK: true},
		{ref: "debian-12-standard"},
		{ref: debian127},
		{ref: ":vztmpl/" + debian127},
		{ref: "local:"},
		{ref: "local:vztmpl/"},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			storage, file, ok := splitVolID(tc.ref)
			if ok != tc.wantSplitOK || storage != tc.storage || file != tc.file {
				t.Errorf("splitVolID(%q) = (%q, %q, %v), want (%q, %q, %v)", tc.ref, storage, file, ok, tc.storage, tc.file, tc.wantSplitOK)
			}
		})
	}
}

func TestVolumeFile(t *testing.T) {
	cases := map[string]string{
		"local:vztmpl/" + debian127:   debian127,
		"local-lvm:vm-100-disk-0":     "vm-100-disk-0",
		"local:100/vm-100-disk-0.raw": "vm-100-disk-0.raw",
		"cephfs:vztmpl/" + debian1210: debian1210,
	}
	for volid, want := range cases {
		if got := volumeFile(volid); got != want {
			t.Errorf("volumeFile(%q) = %q, want %q", volid, got, want)
		}
	}
}

func TestImageMatches(t *testing.T) {
	cases := []struct {
		ref, file string
		want      bool
	}{
		{ref: "debian-12-standard", file: debian127, want: true},
		{ref: "debian-12-standard", file: debian1210, want: true},
		{ref: debian127, file: debian127, want: true},
		// A different version's file name is a different image.
		{ref: debian127, file: debian1210, want: false},
		// The appliance name must be the whole part before "_".
		{ref: "debian-12", file: debian127, want: false},
		{ref: "debian-12-standard", file: "debian-12-standard-extra_12.7-1_amd64.tar.zst", want: false},
		{ref: "debian-13-standard", file: debian127, want: false},
		// Volids are split by the callers; a whole volid never matches a file.
		{ref: "local:vztmpl/" + debian127, file: debian127, want: false},
		// A file without a version part only matches itself.
		{ref: "custom", file: "custom.tar.gz", want: false},
		{ref: "custom.tar.gz", file: "custom.tar.gz", want: true},
	}
	for _, tc := range cases {
		if got := imageMatches(tc.ref, tc.file); got != tc.want {
			t.Errorf("imageMatches(%q, %q) = %v, want %v", tc.ref, tc.file, got, tc.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		name         string
		newer, older string
	}{
		{name: "numeric not lexical", newer: debian1210, older: debian127},
		{name: "equal lengths", newer: "debian-12-standard_12.8-1_amd64.tar.zst", older: debian127},
		{name: "release revision", newer: "debian-12-standard_12.7-2_amd64.tar.zst", older: debian127},
		{name: "date versions", newer: "alpine-3.22-default_20250617_amd64.tar.xz", older: "alpine-3.22-default_20240912_amd64.tar.xz"},
		{name: "longer version is newer", newer: "alpine-3.22-default_3.22.1_amd64.tar.xz", older: "alpine-3.22-default_3.22_amd64.tar.xz"},
		{name: "added revision is newer", newer: debian127, older: "debian-12-standard_12.7_amd64.tar.zst"},
		{name: "version wins over architecture digits", newer: "debian-12-standard_12.8_amd64.tar.zst", older: "debian-12-standard_12.7-1_arm64.tar.zst"},
		{name: "bare versions", newer: "12.10", older: "12.9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := compareVersions(tc.newer, tc.older); got <= 0 {
				t.Errorf("compareVersions(%q, %q) = %d, want > 0", tc.newer, tc.older, got)
			}
			if got := compareVersions(tc.older, tc.newer); got >= 0 {
				t.Errorf("compareVersions(%q, %q) = %d, want < 0", tc.older, tc.newer, got)
			}
		})
	}
	for _, same := range []string{debian127, "alpine-3.22-default_20250617_amd64.tar.xz", "custom.tar.gz"} {
		if got := compareVersions(same, same); got != 0 {
			t.Errorf("compareVersions(%q, itself) = %d, want 0", same, got)
		}
	}
	// Same version numbers, different files: still a strict, stable order.
	a, b := "debian-12-standard_12.7-1_amd64.tar.gz", debian127
	if x, y := compareVersions(a, b), compareVersions(b, a); x == 0 || (x > 0) == (y > 0) {
		t.Errorf("compareVersions of %q and %q is not a strict order: %d, %d", a, b, x, y)
	}
}

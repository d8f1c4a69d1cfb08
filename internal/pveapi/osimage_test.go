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

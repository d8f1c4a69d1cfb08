package pveformat

import "testing"

// Which OS image a name means decides what a template or container is built
// from, in the API client and in the simulator alike, so each rule is pinned
// here.

const (
	debian127  = "debian-12-standard_12.7-1_amd64.tar.zst"
	debian1210 = "debian-12-standard_12.10-1_amd64.tar.zst"
)

func TestApplianceName(t *testing.T) {
	for file, want := range map[string]string{
		debian127: "debian-12-standard",
		"alpine-3.22-default_20250617_amd64.tar.xz": "alpine-3.22-default",
		"custom.tar.gz":      "",
		"debian-12-standard": "",
	} {
		if got := ApplianceName(file); got != want {
			t.Errorf("ApplianceName(%q) = %q, want %q", file, got, want)
		}
	}
}

func TestApplianceMatches(t *testing.T) {
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
		if got := ApplianceMatches(tc.ref, tc.file); got != tc.want {
			t.Errorf("ApplianceMatches(%q, %q) = %v, want %v", tc.ref, tc.file, got, tc.want)
		}
	}
}

func TestCompareApplianceVersions(t *testing.T) {
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
			if got := CompareApplianceVersions(tc.newer, tc.older); got <= 0 {
				t.Errorf("CompareApplianceVersions(%q, %q) = %d, want > 0", tc.newer, tc.older, got)
			}
			if got := CompareApplianceVersions(tc.older, tc.newer); got >= 0 {
				t.Errorf("CompareApplianceVersions(%q, %q) = %d, want < 0", tc.older, tc.newer, got)
			}
		})
	}
	for _, same := range []string{debian127, "alpine-3.22-default_20250617_amd64.tar.xz", "custom.tar.gz"} {
		if got := CompareApplianceVersions(same, same); got != 0 {
			t.Errorf("CompareApplianceVersions(%q, itself) = %d, want 0", same, got)
		}
	}
	// Same version numbers, different files: still a strict, stable order.
	a, b := "debian-12-standard_12.7-1_amd64.tar.gz", debian127
	if x, y := CompareApplianceVersions(a, b), CompareApplianceVersions(b, a); x == 0 || (x > 0) == (y > 0) {
		t.Errorf("CompareApplianceVersions of %q and %q is not a strict order: %d, %d", a, b, x, y)
	}
}

package pveapi

import (
	"strings"
	"testing"
)

func TestParseImageChecksum(t *testing.T) {
	sha256Hex := strings.Repeat("ab", 32)
	sha512Hex := strings.Repeat("0F", 64)
	ok := map[string]ImageChecksum{
		"":                                     {},
		"sha256:" + sha256Hex:                  {Algorithm: "sha256", Digest: sha256Hex},
		"SHA512:" + sha512Hex:                  {Algorithm: "sha512", Digest: strings.ToLower(sha512Hex)},
		"sha256:" + strings.ToUpper(sha256Hex): {Algorithm: "sha256", Digest: sha256Hex},
	}
	for in, want := range ok {
		got, err := ParseImageChecksum(in)
		if err != nil || got != want {
			t.Errorf("ParseImageChecksum(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != strings.ToLower(in) {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), strings.ToLower(in))
		}
	}
	bad := map[string]string{
		sha256Hex:                           "is not a checksum",
		"md5:" + strings.Repeat("a", 32):    "is not a checksum",
		"sha256:" + sha512Hex:               "a sha256 checksum is 64 hex digits",
		"sha512:" + sha256Hex:               "a sha512 checksum is 128 hex digits",
		"sha256:" + strings.Repeat("g", 64): "a sha256 checksum is 64 hex digits",
	}
	for in, want := range bad {
		if _, err := ParseImageChecksum(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseImageChecksum(%q) error %v, want one containing %q", in, err, want)
		}
	}
}

func TestIsImageURL(t *testing.T) {
	for ref, want := range map[string]bool{
		"https://images.example/x.tar.zst": true,
		"HTTP://images.example/x.tar.zst":  true,
		"debian-12-standard":               false,
		"local:vztmpl/x.tar.zst":           false,
		"ftp://images.example/x.tar.zst":   false,
	} {
		if got := IsImageURL(ref); got != want {
			t.Errorf("IsImageURL(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://images.example/os/x.tar.zst":                   "https://images.example/os/x.tar.zst",
		"https://user:pw@images.example/x.tar.zst?token=s3cr3t": "https://redacted@images.example/x.tar.zst?…",
		"https://images.example/x.tar.zst#frag":                 "https://images.example/x.tar.zst",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeContentFileName(t *testing.T) {
	for in, want := range map[string]string{
		"debian-12-custom_1.0_amd64.tar.zst": "debian-12-custom_1.0_amd64.tar.zst",
		"../../etc/my image+v1.tar.gz":       "my_image_v1.tar.gz",
		`C:\images\x.tar`:                    "x.tar",
		"ä.tar":                              "__.tar", // bytes, as PVE's Perl sees them
	} {
		if got := NormalizeContentFileName(in); got != want {
			t.Errorf("NormalizeContentFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestURLFileName(t *testing.T) {
	for in, want := range map[string]string{
		"https://h/os/x_1.0_amd64.tar.zst": "x_1.0_amd64.tar.zst",
		"https://h/os/x.tar.gz?sig=a/b":    "x.tar.gz",
		"https://h/os/x.tar.xz#part":       "x.tar.xz",
		"https://h/latest":                 "latest",
		"https://h/":                       "",
	} {
		m := urlFileRE.FindStringSubmatch(in)
		got := ""
		if m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("file of %q = %q, want %q", in, got, want)
		}
	}
}

func TestOSImageFile(t *testing.T) {
	for ref, want := range map[string]string{
		"https://h/os/custom_1.0_amd64.tar.zst?sig=x":          "custom_1.0_amd64.tar.zst",
		"https://h/os/my%20image.tar.gz":                       "my_20image.tar.gz",
		"https://h/latest":                                     "",
		"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst": "debian-12-standard_12.7-1_amd64.tar.zst",
		"rootfs.tar.xz":                                        "rootfs.tar.xz",
		"debian-12-standard":                                   "",
	} {
		if got := OSImageFile(ref); got != want {
			t.Errorf("OSImageFile(%q) = %q, want %q", ref, got, want)
		}
	}
}

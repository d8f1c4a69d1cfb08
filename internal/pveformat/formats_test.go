package pveformat

import (
	"reflect"
	"testing"
	"time"
)

func TestParseBool(t *testing.T) {
	for _, s := range []string{"1", "on", "YES", "True"} {
		if v, ok := ParseBool(s); !v || !ok {
			t.Errorf("ParseBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"0", "OFF", "no", "false"} {
		if v, ok := ParseBool(s); v || !ok {
			t.Errorf("ParseBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "2", "enabled", "y"} {
		if _, ok := ParseBool(s); ok {
			t.Errorf("ParseBool(%q) accepted", s)
		}
	}
	if FormatBool(true) != "1" || FormatBool(false) != "0" {
		t.Error("FormatBool must print 1/0")
	}
}

func TestDiskSize(t *testing.T) {
	cases := map[string]int64{"8G": 8 * GiB, "512M": 512 * MiB, "1.5T": TiB + TiB/2, "1000": 1000, "4K": 4 * KiB, "0.5G": 512 * MiB,
		"8GiB": 8 * GiB, "8388607T": 8388607 * TiB, "9223372036854774784": 9223372036854774784}
	for in, want := range cases {
		got, err := ParseDiskSize(in)
		if err != nil || got != want {
			t.Errorf("ParseDiskSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "8GB", "-1G", "1e3", "G", "8Gi",
		// 8 EiB and more do not fit the byte count; once they wrapped to "-8388608T".
		"8388608T", "9223372036854775807G", "9223372036854775808", "99999999999999999999999T"} {
		if _, err := ParseDiskSize(bad); err == nil {
			t.Errorf("ParseDiskSize(%q) accepted", bad)
		}
	}
	formats := map[int64]string{8 * GiB: "8G", 1536 * MiB: "1536M", 1000: "1000", 2 * TiB: "2T", 3 * KiB: "3K"}
	for in, want := range formats {
		if got := FormatDiskSize(in); got != want {
			t.Errorf("FormatDiskSize(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestTags(t *testing.T) {
	got := NormalizeTags(SplitTags("B,a a;web\tDB\x00b"))
	want := []string{"a", "b", "db", "web"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if JoinTags(got) != "a;b;db;web" {
		t.Fatalf("JoinTags = %q", JoinTags(got))
	}
	for _, ok := range []string{"a", "_x", "web-1.2+b", "Prod"} {
		if !ValidTag(ok) {
			t.Errorf("ValidTag(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "-a", "a b", "a/b", "é"} {
		if ValidTag(bad) {
			t.Errorf("ValidTag(%q) = true", bad)
		}
	}
}

func TestUPID(t *testing.T) {
	s := "UPID:proxmox2:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!api_token:"
	u, err := ParseUPID(s)
	if err != nil {
		t.Fatal(err)
	}
	if u.Node != "proxmox2" || u.PID != 0xD7AA2 || u.PStart != 0x08D5A17C || u.Type != "vzclone" || u.ID != "200" || u.User != "root@pam!api_token" {
		t.Fatalf("parsed %+v", u)
	}
	if u.StartTime != time.Unix(0x63DF62A5, 0).UTC() {
		t.Fatalf("start time %v", u.StartTime)
	}
	if u.String() != s {
		t.Fatalf("String() = %q", u.String())
	}
	built := UPID{Node: "pve", PID: 0x1234, PStart: 0xABC, StartTime: time.Unix(0x65000000, 0), Type: "vzcreate", ID: "", User: "root@pam"}
	if built.String() != "UPID:pve:00001234:00000ABC:65000000:vzcreate::root@pam:" {
		t.Fatalf("String() = %q", built.String())
	}
	if _, err := ParseUPID(built.String()); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "UPID:pve:1:2:3:x::root@pam:", "UPID:pve:00001234:00000ABC:65000000:vzcreate::root@pam"} {
		if _, err := ParseUPID(bad); err == nil {
			t.Errorf("ParseUPID(%q) accepted", bad)
		}
	}
}

package lxcbackend

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

func TestGuestSetupFiles(t *testing.T) {
	setup := guestSetup{
		spec: backend.ContainerSpec{VMID: 110, Hostname: "app1", Networks: []backend.Network{
			{Index: 1, Name: "eth1", IP: "manual"},
			{Index: 0, Name: "eth0", IP: "10.99.1.110/24", IP6: "fd00::110/64"},
		}},
		addresses:   map[int]netip.Prefix{0: netip.MustParsePrefix("10.99.1.110/24")},
		nameservers: []string{"10.99.1.1", "192.0.2.53"},
		search:      "lab.test",
	}
	if got := setup.hostsFile(); !strings.Contains(got, "127.0.0.1\tlocalhost\n10.99.1.110\tapp1.lab.test app1\n") {
		t.Errorf("hosts:\n%s", got)
	}
	if got := setup.resolvConf(); got != "search lab.test\nnameserver 10.99.1.1\nnameserver 192.0.2.53\n" {
		t.Errorf("resolv.conf:\n%s", got)
	}
	got := setup.interfacesFile()
	for _, want := range []string{"auto lo\niface lo inet loopback\n", "auto eth0\niface eth0 inet manual\niface eth0 inet6 manual\n", "auto eth1\niface eth1 inet manual\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("interfaces lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "dhcp") || strings.Contains(got, "static") {
		t.Errorf("ifupdown would configure addresses LXC already set:\n%s", got)
	}
	if strings.Index(got, "eth0") > strings.Index(got, "eth1") {
		t.Errorf("interfaces out of netN order:\n%s", got)
	}

	noName := guestSetup{spec: backend.ContainerSpec{VMID: 120}}
	if got := noName.hostsFile(); !strings.Contains(got, "127.0.1.1\tCT120\n") {
		t.Errorf("default hostname in hosts:\n%s", got)
	}
	fqdn := guestSetup{spec: backend.ContainerSpec{Hostname: "db.example.test"}}
	if shortHostname(fqdn.spec) != "db" || !strings.Contains(fqdn.hostsFile(), "127.0.1.1\tdb.example.test db\n") {
		t.Errorf("fqdn hosts:\n%s", fqdn.hostsFile())
	}
}

// newLayers makes a base and an empty writable layer for guestFS tests.
func newLayers(t *testing.T) (upper, lower string) {
	t.Helper()
	lower, upper = t.TempDir(), t.TempDir()
	for _, d := range []string{"etc/network", "etc/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(lower, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(lower, "etc/hostname"), []byte("vm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return upper, lower
}

func TestGuestFSWritesIntoTheWritableLayer(t *testing.T) {
	upper, lower := newLayers(t)
	g, err := openStoppedGuest(upper, []string{lower}, os.Getuid())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	setup := guestSetup{spec: backend.ContainerSpec{VMID: 130, Hostname: "box", Networks: []backend.Network{{Index: 0, Name: "eth0", IP: "dhcp"}}}, nameservers: []string{"10.0.0.1"}}
	if err := setup.write(g); err != nil {
		t.Fatal(err)
	}
	if err := writeFirstBoot(g); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(upper, "etc/hostname")); err != nil || string(data) != "box\n" {
		t.Errorf("hostname in the writable layer: %q, %v", data, err)
	}
	if data, err := os.ReadFile(filepath.Join(lower, "etc/hostname")); err != nil || string(data) != "vm\n" {
		t.Errorf("the base changed: %q, %v", data, err)
	}
	if info, err := os.Stat(filepath.Join(upper, "etc/network")); err != nil || info.Mode().Perm() != 0o750 {
		t.Errorf("etc/network in the writable layer does not copy the base's mode: %v, %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(upper, "etc/network/interfaces")); err != nil {
		t.Errorf("interfaces not written: %v", err)
	}
	for _, unit := range maskedUnits {
		if target, err := os.Readlink(filepath.Join(upper, "etc/systemd/system", unit)); err != nil || target != "/dev/null" {
			t.Errorf("%s not masked: %q, %v", unit, target, err)
		}
	}
	id, err := os.ReadFile(filepath.Join(upper, "etc/machine-id"))
	if err != nil || len(strings.TrimSpace(string(id))) != 32 {
		t.Errorf("machine-id %q, %v", id, err)
	}
}

func TestGuestFSDoesNotFollowSymlinksOutOfTheContainer(t *testing.T) {
	upper, lower := newLayers(t)
	outside := filepath.Join(t.TempDir(), "host-file")
	if err := os.WriteFile(outside, []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(upper, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(upper, "etc/hostname")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(upper, "escape")); err != nil {
		t.Fatal(err)
	}
	g, err := openStoppedGuest(upper, []string{lower}, os.Getuid())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	if err := g.writeFile("etc/hostname", []byte("ct\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.writeFile("escape/host-file", []byte("ct\n"), 0o644); err == nil {
		t.Error("a write through a symlinked directory succeeded")
	}
	if data, _ := os.ReadFile(outside); string(data) != "host\n" {
		t.Fatalf("the host file was overwritten: %q", data)
	}
	if info, err := os.Lstat(filepath.Join(upper, "etc/hostname")); err != nil || !info.Mode().IsRegular() {
		t.Errorf("etc/hostname is not a regular file now: %v, %v", info, err)
	}
}

package lxcconf

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

func baseSettings() Settings {
	return Settings{
		Hostname: "web", Cores: 2, Memory: 512, Swap: 512, Storage: "local-lvm", DiskGiB: 8, Unprivileged: true,
		Networks:    []Network{{Name: "eth0", Bridge: "vmbr0", IP: "dhcp", HWAddr: "BC:24:11:00:00:01"}},
		Tags:        []string{"a", "web"},
		Startup:     NoStartup,
		MountPoints: map[string]MountPoint{},
	}
}

func TestCreateParams(t *testing.T) {
	s := baseSettings()
	s.Networks[0].HWAddr = ""
	s.Features = Features{Nesting: true, Mount: []string{"cifs", "nfs"}}
	s.Startup = Startup{Order: 2, Up: 10, Down: -1}
	s.MountPoints["mp0"] = MountPoint{Storage: "local-lvm", Path: "/data", SizeGiB: 1.5, Backup: true, Replicate: true}
	p, err := s.CreateParams()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"hostname": "web", "cores": "2", "memory": "512", "swap": "512", "rootfs": "local-lvm:8", "unprivileged": "1",
		"features": "mount=cifs;nfs,nesting=1", "net0": "name=eth0,bridge=vmbr0,ip=dhcp,type=veth", "tags": "a;web",
		"onboot": "0", "startup": "order=2,up=10", "mp0": "local-lvm:1.5,mp=/data,backup=1,replicate=1",
	}
	for k, v := range want {
		if got, _ := p.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, absent := range []string{"cpulimit", "nameserver", "searchdomain", "description"} {
		if _, ok := p.Get(absent); ok {
			t.Errorf("%s must not be sent when unset", absent)
		}
	}
	// No feature at all: no features= key, which PVE would count as a
	// root-only feature change.
	plain, err := baseSettings().CreateParams()
	if _, ok := plain.Get("features"); ok || err != nil {
		t.Error("features= sent for a container without features")
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Settings)
		set     map[string]string
		deletes []string
		resizes []DiskResize
	}{
		{name: "nothing"},
		{name: "memory and cores", change: func(s *Settings) { s.Memory, s.Cores = 1024, 4 }, set: map[string]string{"memory": "1024", "cores": "4"}},
		{name: "cores back to unlimited", change: func(s *Settings) { s.Cores = 0 }, deletes: []string{"cores"}},
		{name: "tags", change: func(s *Settings) { s.Tags = []string{"prod"} }, set: map[string]string{"tags": "prod"}},
		{name: "tags removed", change: func(s *Settings) { s.Tags = nil }, deletes: []string{"tags"}},
		{
			name:   "network keeps the generated MAC",
			change: func(s *Settings) { s.Networks[0].IP, s.Networks[0].HWAddr = "10.0.0.5/24", "" },
			set:    map[string]string{"net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=10.0.0.5/24,type=veth"},
		},
		{
			name: "second interface added",
			change: func(s *Settings) {
				s.Networks = append(s.Networks, Network{Name: "eth1", Bridge: "vmbr1", IP: "manual"})
			},
			set: map[string]string{"net1": "name=eth1,bridge=vmbr1,ip=manual,type=veth"},
		},
		{
			name:   "link down",
			change: func(s *Settings) { s.Networks[0].LinkDown = true },
			set:    map[string]string{"net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,link_down=1,type=veth"},
		},
		{name: "features added", change: func(s *Settings) { s.Features.Fuse = true }, set: map[string]string{"features": "fuse=1"}},
		{name: "rootfs grows", change: func(s *Settings) { s.DiskGiB = 10 }, resizes: []DiskResize{{Disk: "rootfs", Size: "10G"}}},
		{name: "rootfs shrink is not an update", change: func(s *Settings) { s.DiskGiB = 4 }},
		{name: "description set", change: func(s *Settings) { s.Description = "notes" }, set: map[string]string{"description": "notes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur, want := baseSettings(), baseSettings()
			if tc.change != nil {
				tc.change(&want)
			}
			ch, err := Diff(cur, want)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, k := range ch.Config.Keys() {
				got[k], _ = ch.Config.Get(k)
			}
			if len(got) != len(tc.set) {
				t.Errorf("set %v, want %v", got, tc.set)
			}
			for k, v := range tc.set {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if !slices.Equal(ch.Config.Deletes(), tc.deletes) {
				t.Errorf("deletes %v, want %v", ch.Config.Deletes(), tc.deletes)
			}
			if !reflect.DeepEqual(ch.Resizes, tc.resizes) {
				t.Errorf("resizes %v, want %v", ch.Resizes, tc.resizes)
			}
		})
	}
}

func TestDiffMountPoints(t *testing.T) {
	cur := baseSettings()
	cur.MountPoints["mp0"] = MountPoint{Storage: "local-lvm", Volume: "local-lvm:vm-100-disk-1", Path: "/data", SizeGiB: 1, Replicate: true}
	cur.MountPoints["mp1"] = MountPoint{Storage: "local-lvm", Volume: "local-lvm:vm-100-disk-2", Path: "/logs", SizeGiB: 1, Replicate: true}
	want := baseSettings()
	want.MountPoints["mp0"] = MountPoint{Storage: "local-lvm", Path: "/data", SizeGiB: 2, Backup: true, Replicate: true}
	want.MountPoints["mp2"] = MountPoint{Storage: "local-lvm", Path: "/cache", SizeGiB: 0.5, Replicate: true}
	ch, err := Diff(cur, want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ch.Resizes, []DiskResize{{Disk: "mp0", Size: "2G"}}) {
		t.Errorf("resizes %v", ch.Resizes)
	}
	if v, _ := ch.Config.Get("mp0"); v != "local-lvm:vm-100-disk-1,mp=/data,backup=1,replicate=1,size=2G" {
		t.Errorf("mp0 = %q: an option change of an existing volume keeps it and carries the new size", v)
	}
	if v, _ := ch.Config.Get("mp2"); v != "local-lvm:0.5,mp=/cache,backup=0,replicate=1" {
		t.Errorf("mp2 = %q", v)
	}
	if !slices.Equal(ch.Config.Deletes(), []string{"mp1"}) {
		t.Errorf("deletes %v", ch.Config.Deletes())
	}
}

func TestParse(t *testing.T) {
	cfg := pveapi.NewContainerConfig(map[string]string{
		"hostname": "web", "cores": "2", "cpulimit": "1.5", "memory": "1024", "swap": "0", "unprivileged": "1", "onboot": "1",
		"rootfs":      "local-lvm:vm-100-disk-0,size=8704M",
		"features":    "nesting=1,keyctl=1,mount=nfs;cifs",
		"net0":        "name=eth0,bridge=vmbr0,firewall=1,hwaddr=bc:24:11:aa:bb:cc,ip=10.0.0.5/24,gw=10.0.0.1,link_down=1,tag=20,mtu=1400,rate=12.5,type=veth",
		"net2":        "name=eth2,bridge=vmbr1,ip=dhcp,type=veth",
		"tags":        "web;Prod",
		"startup":     "order=3,down=60",
		"description": "line one\n\nline two\n",
		"mp0":         "local-lvm:vm-100-disk-1,mp=/data,backup=1,size=1G",
	}, "digest")
	s, err := Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.DiskGiB != 8.5 || s.Storage != "local-lvm" || s.CPULimit != 1.5 || s.Swap != 0 || !s.OnBoot {
		t.Errorf("scalars: %+v", s)
	}
	if !s.Features.Nesting || !s.Features.Keyctl || s.Features.Fuse || !slices.Equal(s.Features.Mount, []string{"cifs", "nfs"}) {
		t.Errorf("features %+v", s.Features)
	}
	if len(s.Networks) != 3 || s.Networks[1] != (Network{}) {
		t.Fatalf("networks keep their index (net2 is element 2): %+v", s.Networks)
	}
	n := s.Networks[0]
	if n.HWAddr != "BC:24:11:AA:BB:CC" || !n.Firewall || !n.LinkDown || n.Tag != 20 || n.MTU != 1400 || n.Rate != 12.5 || n.GW != "10.0.0.1" {
		t.Errorf("net0 %+v", n)
	}
	if !slices.Equal(s.Tags, []string{"prod", "web"}) {
		t.Errorf("tags %v", s.Tags)
	}
	if s.Startup != (Startup{Order: 3, Up: -1, Down: 60}) {
		t.Errorf("startup %+v", s.Startup)
	}
	if s.Description != "line one\nline two" {
		t.Errorf("description %q", s.Description)
	}
	mp := s.MountPoints["mp0"]
	if mp.Volume != "local-lvm:vm-100-disk-1" || mp.Path != "/data" || !mp.Backup || !mp.Replicate || mp.SizeGiB != 1 {
		t.Errorf("mp0 %+v", mp)
	}

	// A privileged container has no unprivileged key at all.
	priv, err := Parse(pveapi.NewContainerConfig(map[string]string{"memory": "512"}, ""))
	if err != nil || priv.Unprivileged || priv.Swap != 512 {
		t.Errorf("defaults: %+v %v", priv, err)
	}
	if _, err := Parse(pveapi.NewContainerConfig(map[string]string{"net0": "=broken"}, "")); err == nil {
		t.Error("a malformed net0 must be an error")
	}
}

func TestDiffFeaturesRemoved(t *testing.T) {
	cur, want := baseSettings(), baseSettings()
	cur.Features.Nesting = true
	ch, err := Diff(cur, want)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Config.Deletes(), []string{"features"}) || len(ch.Config.Keys()) != 0 {
		t.Fatalf("want delete=features only, got set %v delete %v", ch.Config.Keys(), ch.Config.Deletes())
	}
}

func TestNormalizeDescription(t *testing.T) {
	for _, pair := range [][2]string{{"hello", "hello\n"}, {"a\n\nb", "a\nb\n"}, {"x\r\n", "x"}} {
		if NormalizeDescription(pair[0]) != NormalizeDescription(pair[1]) {
			t.Errorf("%q and %q must compare equal", pair[0], pair[1])
		}
	}
}

// Values that would smuggle keys into a property string are refused, not
// sent: a VLAN tag through a bridge name, a read-only root through a
// storage id, options through a mount path.
func TestSeparatorsInValuesAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Settings)
		key    string
	}{
		{"bridge", func(s *Settings) { s.Networks[0].Bridge = "vmbr0,tag=666,rate=1" }, "net0"},
		{"root storage", func(s *Settings) { s.Storage = "local-lvm,ro=1" }, "rootfs"},
		{"mount path", func(s *Settings) {
			s.MountPoints["mp0"] = MountPoint{Storage: "local-lvm", Path: "/srv,ro=1", SizeGiB: 1}
		}, "mp0"},
		{"mount storage", func(s *Settings) {
			s.MountPoints["mp0"] = MountPoint{Storage: "local-lvm,shared=1", Path: "/srv", SizeGiB: 1}
		}, "mp0"},
		{"interface name with a line break", func(s *Settings) { s.Networks[0].Name = "eth0\nlxc.cap.drop:" }, "net0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSettings()
			tc.change(&s)
			if _, err := s.CreateParams(); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("CreateParams: %v, want an error naming %s", err, tc.key)
			}
			if tc.key == "rootfs" {
				return // a storage change is a replacement, never a diff
			}
			if _, err := Diff(baseSettings(), s); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("Diff: %v, want an error naming %s", err, tc.key)
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	s := baseSettings()
	s.Networks[0].IP, s.Networks[0].IP6 = "10.0.0.5/24", "fd00::5/64"
	if v4, v6, api := StaticAddresses(s); v4 != "10.0.0.5" || v6 != "fd00::5" || api {
		t.Errorf("static: %q %q %v", v4, v6, api)
	}
	s.Networks[0].IP6 = "auto"
	if _, _, api := StaticAddresses(s); !api {
		t.Error("SLAAC needs the interfaces endpoint")
	}
	ifaces := []pveapi.ContainerInterface{
		{Name: "lo", IPAddresses: []pveapi.InterfaceAddress{{Address: "127.0.0.1"}, {Address: "::1"}}},
		{Name: "eth0", IPAddresses: []pveapi.InterfaceAddress{
			{Address: "fe80::be24:11ff:fe00:1"}, {Address: "10.0.0.7"}, {Address: "2001:db8::7"}, {Address: "10.0.0.8"},
		}},
	}
	if v4, v6 := FirstAddresses(ifaces); v4 != "10.0.0.7" || v6 != "2001:db8::7" {
		t.Errorf("first addresses: %q %q", v4, v6)
	}
}

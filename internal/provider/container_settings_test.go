package provider

import (
	"reflect"
	"slices"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

func baseSettings() containerSettings {
	return containerSettings{
		Hostname: "web", Cores: 2, Memory: 512, Swap: 512, Storage: "local-lvm", DiskGiB: 8, Unprivileged: true,
		Networks:    []networkSettings{{Name: "eth0", Bridge: "vmbr0", IP: "dhcp", HWAddr: "BC:24:11:00:00:01"}},
		Tags:        []string{"a", "web"},
		Startup:     noStartup,
		MountPoints: map[string]mountPointSettings{},
	}
}

func TestCreateParams(t *testing.T) {
	s := baseSettings()
	s.Networks[0].HWAddr = ""
	s.Features = containerFeatures{Nesting: true, Mount: []string{"cifs", "nfs"}}
	s.Startup = startupSettings{Order: 2, Up: 10, Down: -1}
	s.MountPoints["mp0"] = mountPointSettings{Storage: "local-lvm", Path: "/data", SizeGiB: 1.5, Backup: true, Replicate: true}
	p := s.createParams()
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
	if _, ok := baseSettings().createParams().Get("features"); ok {
		t.Error("features= sent for a container without features")
	}
}

func TestDiffSettings(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*containerSettings)
		set     map[string]string
		deletes []string
		resizes []diskResize
	}{
		{name: "nothing"},
		{name: "memory and cores", change: func(s *containerSettings) { s.Memory, s.Cores = 1024, 4 }, set: map[string]string{"memory": "1024", "cores": "4"}},
		{name: "cores back to unlimited", change: func(s *containerSettings) { s.Cores = 0 }, deletes: []string{"cores"}},
		{name: "tags", change: func(s *containerSettings) { s.Tags = []string{"prod"} }, set: map[string]string{"tags": "prod"}},
		{name: "tags removed", change: func(s *containerSettings) { s.Tags = nil }, deletes: []string{"tags"}},
		{
			name:   "network keeps the generated MAC",
			change: func(s *containerSettings) { s.Networks[0].IP, s.Networks[0].HWAddr = "10.0.0.5/24", "" },
			set:    map[string]string{"net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=10.0.0.5/24,type=veth"},
		},
		{
			name: "second interface added",
			change: func(s *containerSettings) {
				s.Networks = append(s.Networks, networkSettings{Name: "eth1", Bridge: "vmbr1", IP: "manual"})
			},
			set: map[string]string{"net1": "name=eth1,bridge=vmbr1,ip=manual,type=veth"},
		},
		{name: "features added", change: func(s *containerSettings) { s.Features.Fuse = true }, set: map[string]string{"features": "fuse=1"}},
		{name: "rootfs grows", change: func(s *containerSettings) { s.DiskGiB = 10 }, resizes: []diskResize{{Disk: "rootfs", Size: "10G"}}},
		{name: "rootfs shrink is not an update", change: func(s *containerSettings) { s.DiskGiB = 4 }},
		{name: "description set", change: func(s *containerSettings) { s.Description = "notes" }, set: map[string]string{"description": "notes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur, want := baseSettings(), baseSettings()
			if tc.change != nil {
				tc.change(&want)
			}
			ch := diffSettings(cur, want)
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

func TestDiffSettingsMountPoints(t *testing.T) {
	cur := baseSettings()
	cur.MountPoints["mp0"] = mountPointSettings{Storage: "local-lvm", Volume: "local-lvm:vm-100-disk-1", Path: "/data", SizeGiB: 1, Replicate: true}
	cur.MountPoints["mp1"] = mountPointSettings{Storage: "local-lvm", Volume: "local-lvm:vm-100-disk-2", Path: "/logs", SizeGiB: 1, Replicate: true}
	want := baseSettings()
	want.MountPoints["mp0"] = mountPointSettings{Storage: "local-lvm", Path: "/data", SizeGiB: 2, Backup: true, Replicate: true}
	want.MountPoints["mp2"] = mountPointSettings{Storage: "local-lvm", Path: "/cache", SizeGiB: 0.5, Replicate: true}
	ch := diffSettings(cur, want)
	if !reflect.DeepEqual(ch.Resizes, []diskResize{{Disk: "mp0", Size: "2G"}}) {
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

func TestSettingsFromConfig(t *testing.T) {
	cfg := pveapi.NewContainerConfig(map[string]string{
		"hostname": "web", "cores": "2", "cpulimit": "1.5", "memory": "1024", "swap": "0", "unprivileged": "1", "onboot": "1",
		"rootfs":      "local-lvm:vm-100-disk-0,size=8704M",
		"features":    "nesting=1,keyctl=1,mount=nfs;cifs",
		"net0":        "name=eth0,bridge=vmbr0,firewall=1,hwaddr=bc:24:11:aa:bb:cc,ip=10.0.0.5/24,gw=10.0.0.1,tag=20,mtu=1400,rate=12.5,type=veth",
		"net2":        "name=eth2,bridge=vmbr1,ip=dhcp,type=veth",
		"tags":        "web;Prod",
		"startup":     "order=3,down=60",
		"description": "line one\n\nline two\n",
		"mp0":         "local-lvm:vm-100-disk-1,mp=/data,backup=1,size=1G",
	}, "digest")
	s, err := settingsFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.DiskGiB != 8.5 || s.Storage != "local-lvm" || s.CPULimit != 1.5 || s.Swap != 0 || !s.OnBoot {
		t.Errorf("scalars: %+v", s)
	}
	if !s.Features.Nesting || !s.Features.Keyctl || s.Features.Fuse || !slices.Equal(s.Features.Mount, []string{"cifs", "nfs"}) {
		t.Errorf("features %+v", s.Features)
	}
	if len(s.Networks) != 3 || s.Networks[1] != (networkSettings{}) {
		t.Fatalf("networks keep their index (net2 is element 2): %+v", s.Networks)
	}
	n := s.Networks[0]
	if n.HWAddr != "BC:24:11:AA:BB:CC" || !n.Firewall || n.Tag != 20 || n.MTU != 1400 || n.Rate != 12.5 || n.GW != "10.0.0.1" {
		t.Errorf("net0 %+v", n)
	}
	if !slices.Equal(s.Tags, []string{"prod", "web"}) {
		t.Errorf("tags %v", s.Tags)
	}
	if s.Startup != (startupSettings{Order: 3, Up: -1, Down: 60}) {
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
	priv, err := settingsFromConfig(pveapi.NewContainerConfig(map[string]string{"memory": "512"}, ""))
	if err != nil || priv.Unprivileged || priv.Swap != 512 {
		t.Errorf("defaults: %+v %v", priv, err)
	}
	if _, err := settingsFromConfig(pveapi.NewContainerConfig(map[string]string{"net0": "=broken"}, "")); err == nil {
		t.Error("a malformed net0 must be an error")
	}
}

func TestNormalizeDescriptionAndOSTemplate(t *testing.T) {
	for _, pair := range [][2]string{{"hello", "hello\n"}, {"a\n\nb", "a\nb\n"}, {"x\r\n", "x"}} {
		if normalizeDescription(pair[0]) != normalizeDescription(pair[1]) {
			t.Errorf("%q and %q must compare equal", pair[0], pair[1])
		}
	}
	if !sameOSTemplate("debian-12-standard", "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst") {
		t.Error("an appliance name and its volid name the same image")
	}
	if sameOSTemplate("debian-12-standard", "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst") {
		t.Error("debian 12 and 13 are different images")
	}
}

func TestDiffSettingsFeaturesRemoved(t *testing.T) {
	cur, want := baseSettings(), baseSettings()
	cur.Features.Nesting = true
	ch := diffSettings(cur, want)
	if !slices.Equal(ch.Config.Deletes(), []string{"features"}) || len(ch.Config.Keys()) != 0 {
		t.Fatalf("want delete=features only, got set %v delete %v", ch.Config.Keys(), ch.Config.Deletes())
	}
}

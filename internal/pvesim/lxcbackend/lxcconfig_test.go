package lxcbackend

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

func TestCgroupLimits(t *testing.T) {
	spec := backend.ContainerSpec{MemoryMiB: 512, SwapMiB: 256, Cores: 3}
	cpus := []int{0, 2, 4, 6}
	tests := []struct {
		name   string
		layout cgroupLayout
		spec   backend.ContainerSpec
		want   []cgroupSetting
	}{
		{"v1 with swap accounting", cgroupLayout{memsw: true}, spec, []cgroupSetting{
			{"memory.limit_in_bytes", "536870912"}, {"memory.memsw.limit_in_bytes", "805306368"}, {"cpuset.cpus", "0,2,4"}}},
		{"v1 without swap accounting", cgroupLayout{}, spec, []cgroupSetting{
			{"memory.limit_in_bytes", "536870912"}, {"cpuset.cpus", "0,2,4"}}},
		{"v2", cgroupLayout{unified: true}, spec, []cgroupSetting{
			{"memory.max", "536870912"}, {"memory.swap.max", "268435456"}, {"cpuset.cpus", "0,2,4"}}},
		{"more cores than the host has", cgroupLayout{}, backend.ContainerSpec{Cores: 16}, []cgroupSetting{{"cpuset.cpus", "0,2,4,6"}}},
		{"no limits", cgroupLayout{memsw: true}, backend.ContainerSpec{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.layout.limits(tt.spec, cpus); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := (cgroupLayout{}).configKey("memory.limit_in_bytes"); got != "lxc.cgroup.memory.limit_in_bytes" {
		t.Errorf("v1 key %s", got)
	}
	if got := (cgroupLayout{unified: true}).configKey("memory.max"); got != "lxc.cgroup2.memory.max" {
		t.Errorf("v2 key %s", got)
	}
	if got := (cgroupLayout{}).unlimited("memory.limit_in_bytes", cpus); got != "-1" {
		t.Errorf("v1 unlimited %s", got)
	}
	if got := (cgroupLayout{unified: true}).unlimited("memory.max", cpus); got != "max" {
		t.Errorf("v2 unlimited %s", got)
	}
	if got := (cgroupLayout{}).unlimited("cpuset.cpus", cpus); got != "0,2,4,6" {
		t.Errorf("all cpus %s", got)
	}
}

func TestRenderConfig(t *testing.T) {
	spec := backend.ContainerSpec{
		VMID: 105, Hostname: "web.example.test", MemoryMiB: 256, Cores: 1,
		Features: map[string]string{"nesting": "1", "fuse": "0"},
		Networks: []backend.Network{
			{Index: 1, Name: "eth1", IP: "192.0.2.7/24", GW: "192.0.2.1", MTU: 1400},
			{Index: 0, Name: "eth0", IP: "dhcp", IP6: "fd00::5/64", GW6: "fd00::1"},
		},
	}
	st := &containerState{
		Spec:         spec,
		Unprivileged: true,
		Addresses:    map[int]netip.Prefix{0: netip.MustParsePrefix("10.99.1.105/24"), 1: netip.MustParsePrefix("192.0.2.7/24")},
		HWAddrs:      map[int]string{0: "BC:24:11:00:00:01", 1: "BC:24:11:00:00:02"},
	}
	got := lxcConfig{
		state: st, lowers: []string{"/state/lxc/9000/delta", "/cache/base.u100000"}, upper: "/state/lxc/105/delta",
		bridge: "pvesimtest", gateway: netip.MustParseAddr("10.99.1.1"),
		cgroups: cgroupLayout{memsw: true}, cpus: []int{0, 1},
	}.render()
	for _, want := range []string{
		"lxc.include = /usr/share/lxc/config/common.conf\n",
		"lxc.include = /usr/share/lxc/config/nesting.conf\n",
		"lxc.uts.name = web.example.test\n",
		"lxc.rootfs.path = overlay:/state/lxc/9000/delta:/cache/base.u100000:/state/lxc/105/delta\n",
		"lxc.rootfs.options = userxattr\n",
		"lxc.apparmor.profile = unconfined\n",
		"lxc.idmap = u 0 100000 65536\n",
		"lxc.idmap = g 0 100000 65536\n",
		"lxc.cgroup.memory.limit_in_bytes = 268435456\n",
		"lxc.cgroup.memory.memsw.limit_in_bytes = 268435456\n",
		"lxc.cgroup.cpuset.cpus = 0\n",
		"lxc.net.0.type = veth\nlxc.net.0.link = pvesimtest\nlxc.net.0.name = eth0\nlxc.net.0.flags = up\nlxc.net.0.hwaddr = BC:24:11:00:00:01\nlxc.net.0.ipv4.address = 10.99.1.105/24\nlxc.net.0.ipv4.gateway = 10.99.1.1\nlxc.net.0.ipv6.address = fd00::5/64\nlxc.net.0.ipv6.gateway = fd00::1\n",
		"lxc.net.1.mtu = 1400\nlxc.net.1.ipv4.address = 192.0.2.7/24\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "lxc.net.1.ipv4.gateway") {
		t.Errorf("a second default route would fail the start:\n%s", got)
	}
	if strings.Contains(got, "/dev/fuse") {
		t.Errorf("fuse=0 mounted /dev/fuse:\n%s", got)
	}
	if strings.Index(got, "lxc.apparmor.profile") < strings.Index(got, "nesting.conf") {
		t.Errorf("nesting.conf's AppArmor profile would win over unconfined:\n%s", got)
	}

	st.Unprivileged = false
	st.Spec.Features = nil
	privileged := lxcConfig{state: st, lowers: []string{"/b"}, upper: "/u", bridge: "br", cgroups: cgroupLayout{unified: true}}.render()
	for _, unwanted := range []string{"lxc.idmap", "userxattr", "nesting.conf", "lxc.cgroup."} {
		if strings.Contains(privileged, unwanted) {
			t.Errorf("a privileged v2 config has %q:\n%s", unwanted, privileged)
		}
	}
	if !strings.Contains(privileged, "lxc.cgroup2.memory.max = 268435456\n") {
		t.Errorf("v2 limits missing:\n%s", privileged)
	}
}

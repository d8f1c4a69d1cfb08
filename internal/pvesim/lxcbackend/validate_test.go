package lxcbackend

import (
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

func TestValidateSpec(t *testing.T) {
	good := backend.ContainerSpec{
		VMID: 100, Hostname: "web-1.example.test", Nameserver: "10.0.0.1 192.0.2.53", Searchdomain: "example.test",
		Networks: []backend.Network{{Index: 0, Name: "eth0", HWAddr: "BC:24:11:00:00:01", IP: "10.0.0.5/24", GW: "10.0.0.1", IP6: "fd00::5/64", GW6: "fd00::1", MTU: 1500}, {Index: 1, Name: "eth1", IP: "dhcp", IP6: "auto"}},
	}
	if err := validateSpec(good); err != nil {
		t.Fatalf("a good spec: %v", err)
	}
	tests := []struct {
		name    string
		edit    func(*backend.ContainerSpec)
		wantErr string
	}{
		{"config line smuggled in a host name", func(s *backend.ContainerSpec) { s.Hostname = "x\nlxc.mount.entry = / host none bind" }, "hostname"},
		{"underscore in a host name", func(s *backend.ContainerSpec) { s.Hostname = "web_1" }, "hostname"},
		{"no VMID", func(s *backend.ContainerSpec) { s.VMID = 0 }, "invalid VMID"},
		{"name server", func(s *backend.ContainerSpec) { s.Nameserver = "dns.example.test" }, "nameserver"},
		{"search domain", func(s *backend.ContainerSpec) { s.Searchdomain = "bad_domain" }, "searchdomain"},
		{"interface name", func(s *backend.ContainerSpec) { s.Networks[0].Name = "eth0\nlxc.x = y" }, "net0: name"},
		{"multicast MAC", func(s *backend.ContainerSpec) { s.Networks[0].HWAddr = "01:00:5E:00:00:01" }, "net0: hwaddr"},
		{"IPv6 in ip", func(s *backend.ContainerSpec) { s.Networks[0].IP = "fd00::1/64" }, "net0: ip"},
		{"address without prefix", func(s *backend.ContainerSpec) { s.Networks[0].IP = "10.0.0.5" }, "net0: ip"},
		{"IPv4 in ip6", func(s *backend.ContainerSpec) { s.Networks[1].IP6 = "10.0.0.5/24" }, "net1: ip6"},
		{"gateway", func(s *backend.ContainerSpec) { s.Networks[0].GW = "gateway" }, "net0: gw"},
		{"IPv6 gateway", func(s *backend.ContainerSpec) { s.Networks[0].GW6 = "10.0.0.1" }, "net0: gw6"},
		{"mtu", func(s *backend.ContainerSpec) { s.Networks[0].MTU = 20 }, "net0: mtu"},
		{"repeated index", func(s *backend.ContainerSpec) { s.Networks[1].Index = 0 }, "net0: invalid or repeated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := good
			spec.Networks = append([]backend.Network(nil), good.Networks...)
			tt.edit(&spec)
			if err := validateSpec(spec); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

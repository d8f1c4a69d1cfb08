package lxcbackend

import (
	"net/netip"
	"strings"
	"testing"
)

func TestPickSubnet(t *testing.T) {
	host := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("10.99.5.0/24"),
		netip.MustParsePrefix("10.99.6.7/32"),
	}
	got, err := pickSubnet(5, host)
	if err != nil || got.String() != "10.99.7.0/24" {
		t.Errorf("got %s, %v; want 10.99.7.0/24 (5 and 6 are taken)", got, err)
	}
	if c := subnetConflict(netip.MustParsePrefix("10.99.6.0/24"), host); c != "10.99.6.7/32" {
		t.Errorf("conflict %q", c)
	}
	if _, err := pickSubnet(0, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}); err == nil {
		t.Error("a host using all of 10/8 left a subnet free")
	}
}

func TestRuleset(t *testing.T) {
	n := hostNetwork{Bridge: "pvesimabc", NftTable: "pvesim_abc", Subnet: netip.MustParsePrefix("10.99.3.0/24")}
	isolated := n.ruleset()
	for _, want := range []string{"table inet pvesim_abc {", `iifname "pvesimabc" oifname != "pvesimabc" drop`, `oifname "pvesimabc" iifname != "pvesimabc" drop`, `iifname "pvesimabc" ip daddr != 10.99.3.0/24 fib daddr type unicast reject`} {
		if !strings.Contains(isolated, want) {
			t.Errorf("isolated rules lack %q:\n%s", want, isolated)
		}
	}
	if strings.Contains(isolated, "masquerade") {
		t.Errorf("isolated rules masquerade:\n%s", isolated)
	}
	n.Egress = true
	nat := n.ruleset()
	if !strings.Contains(nat, `ip saddr 10.99.3.0/24 oifname != "pvesimabc" masquerade`) {
		t.Errorf("egress rules do not masquerade the subnet:\n%s", nat)
	}
	if n.gateway().String() != "10.99.3.1" {
		t.Errorf("gateway %s", n.gateway())
	}
}

func TestParseIPAddr(t *testing.T) {
	const out = `[{"ifindex":1,"ifname":"lo","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},
{"ifindex":2,"ifname":"eth0","address":"bc:24:11:00:00:01","addr_info":[{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"},{"family":"inet","local":"10.99.1.5","prefixlen":24,"scope":"global"},{"family":"inet","local":"10.99.1.6","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fd00::5","prefixlen":64,"scope":"global"}]},
{"ifindex":3,"ifname":"eth1","address":"bc:24:11:00:00:02","addr_info":[]}]`
	got, err := parseIPAddr([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, hw, addrs string }{
		{"lo", "00:00:00:00:00:00", "127.0.0.1/8 ::1/128"},
		{"eth0", "bc:24:11:00:00:01", "fe80::1/64 10.99.1.5/24 10.99.1.6/24 fd00::5/64"},
		{"eth1", "bc:24:11:00:00:02", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i, w := range want {
		var addrs []string
		for _, a := range got[i].Addresses {
			addrs = append(addrs, a.String())
		}
		if got[i].Name != w.name || got[i].HWAddr != w.hw || strings.Join(addrs, " ") != w.addrs {
			t.Errorf("interface %d: got %+v, want %+v", i, got[i], w)
		}
	}
	if got[1].Inet() != "10.99.1.5/24" || got[2].Inet() != "" {
		t.Errorf("Inet() = %q, %q", got[1].Inet(), got[2].Inet())
	}
	if _, err := parseIPAddr([]byte(`[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":99}]}]`)); err == nil {
		t.Error("an impossible prefix length parsed")
	}
	if _, err := parseIPAddr([]byte("not json")); err == nil {
		t.Error("garbage parsed")
	}
}

package lxcconf

import (
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Network is one netN interface.
type Network struct {
	Name     string
	Bridge   string
	IP       string // dhcp | manual | IPv4 CIDR | ""
	GW       string
	IP6      string // auto | dhcp | manual | IPv6 CIDR | ""
	GW6      string
	HWAddr   string // upper case; "" = let PVE generate one
	Firewall bool
	Tag      int64 // 0 = untagged
	MTU      int64 // 0 = bridge MTU
	Rate     float64
	LinkDown bool // disconnected, like a pulled plug
}

var netFormat = pveformat.PropertyFormat{Required: []string{"name"}}

func (n Network) property() pveformat.PropertyString {
	var ps pveformat.PropertyString
	ps.Set("name", n.Name)
	ps.Set("bridge", n.Bridge)
	ps.Set("hwaddr", n.HWAddr)
	ps.Set("ip", n.IP)
	ps.Set("gw", n.GW)
	ps.Set("ip6", n.IP6)
	ps.Set("gw6", n.GW6)
	ps.Set("firewall", flag(n.Firewall))
	ps.Set("tag", positiveInt(n.Tag))
	ps.Set("mtu", positiveInt(n.MTU))
	ps.Set("rate", positiveFloat(n.Rate))
	ps.Set("link_down", flag(n.LinkDown))
	ps.Set("type", "veth")
	return ps
}

func parseNetwork(ps pveformat.PropertyString) (Network, error) {
	n := Network{
		Name: ps.Value("name"), Bridge: ps.Value("bridge"), IP: ps.Value("ip"), GW: ps.Value("gw"),
		IP6: ps.Value("ip6"), GW6: ps.Value("gw6"), HWAddr: strings.ToUpper(ps.Value("hwaddr")),
		Firewall: propertyBool(ps, "firewall", false), LinkDown: propertyBool(ps, "link_down", false),
	}
	var err error
	if n.Tag, err = propertyInt(ps, "tag"); err != nil {
		return n, err
	}
	if n.MTU, err = propertyInt(ps, "mtu"); err != nil {
		return n, err
	}
	if r := ps.Value("rate"); r != "" {
		if n.Rate, err = strconv.ParseFloat(r, 64); err != nil {
			return n, err
		}
	}
	return n, nil
}

// keepGeneratedMAC fills an unset MAC with the one PVE generated for cur.
func (n Network) keepGeneratedMAC(cur Network) Network {
	if n.HWAddr == "" {
		n.HWAddr = cur.HWAddr
	}
	n.HWAddr = strings.ToUpper(n.HWAddr)
	return n
}

// networkChanged says whether want differs from cur, a MAC left to PVE
// counting as the one it generated.
func networkChanged(cur, want Network) bool {
	cur.HWAddr = strings.ToUpper(cur.HWAddr)
	return cur != want.keepGeneratedMAC(cur)
}

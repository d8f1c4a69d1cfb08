package lxcconf

import (
	"net/netip"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// StaticAddresses returns the addresses configured on the first interface;
// needAPI is true when an address comes from DHCP/SLAAC and only the
// interfaces endpoint can tell it.
func StaticAddresses(s Settings) (ipv4, ipv6 string, needAPI bool) {
	if len(s.Networks) == 0 {
		return "", "", false
	}
	n := s.Networks[0]
	if p, err := netip.ParsePrefix(n.IP); err == nil {
		ipv4 = p.Addr().String()
	} else if n.IP == "dhcp" {
		needAPI = true
	}
	if p, err := netip.ParsePrefix(n.IP6); err == nil {
		ipv6 = p.Addr().String()
	} else if n.IP6 == "dhcp" || n.IP6 == "auto" {
		needAPI = true
	}
	return ipv4, ipv6, needAPI
}

// FirstAddresses picks the first IPv4 and the first global IPv6 address of
// a running container's interfaces, skipping loopback and link-local ones.
func FirstAddresses(ifaces []pveapi.ContainerInterface) (ipv4, ipv6 string) {
	for _, iface := range ifaces {
		if iface.Name == "lo" {
			continue
		}
		for _, a := range iface.IPAddresses {
			addr, err := netip.ParseAddr(a.Address)
			if err != nil || addr.IsLoopback() || addr.IsLinkLocalUnicast() {
				continue
			}
			if addr.Is4() && ipv4 == "" {
				ipv4 = addr.String()
			}
			if addr.Is6() && ipv6 == "" {
				ipv6 = addr.String()
			}
		}
	}
	return ipv4, ipv6
}

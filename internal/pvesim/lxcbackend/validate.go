package lxcbackend

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

var (
	// dnsName is Proxmox VE's dns-name format: dot-separated labels.
	dnsName = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$`)
	// interfaceNamePattern is what Proxmox VE accepts as netN's name.
	interfaceNamePattern = regexp.MustCompile(`^[-_.\w\d]{1,15}$`)
)

// validateSpec rejects values that would not survive being written into
// the container's LXC configuration or setup files. The API layer has
// validated them against the schema already; this keeps a bad spec from
// ever reaching a root-owned LXC configuration (a newline in a host name
// would add a configuration line of its own).
func validateSpec(spec backend.ContainerSpec) error {
	if spec.VMID <= 0 {
		return fmt.Errorf("invalid VMID %d", spec.VMID)
	}
	if spec.Hostname != "" && (len(spec.Hostname) > 255 || !dnsName.MatchString(spec.Hostname)) {
		return fmt.Errorf("hostname %q: not a valid DNS name", spec.Hostname)
	}
	if spec.Searchdomain != "" {
		for _, domain := range strings.Fields(spec.Searchdomain) {
			if !dnsName.MatchString(domain) {
				return fmt.Errorf("searchdomain %q: not a valid DNS name", domain)
			}
		}
	}
	for _, ns := range strings.Fields(strings.ReplaceAll(spec.Nameserver, ",", " ")) {
		if _, err := netip.ParseAddr(ns); err != nil {
			return fmt.Errorf("nameserver %q: not an IP address", ns)
		}
	}
	seen := map[int]bool{}
	for _, n := range spec.Networks {
		if n.Index < 0 || seen[n.Index] {
			return fmt.Errorf("net%d: invalid or repeated interface index", n.Index)
		}
		seen[n.Index] = true
		if err := validateNetwork(n); err != nil {
			return fmt.Errorf("net%d: %w", n.Index, err)
		}
	}
	return nil
}

// validateNetwork checks one netN entry.
func validateNetwork(n backend.Network) error {
	if n.Name != "" && !interfaceNamePattern.MatchString(n.Name) {
		return fmt.Errorf("name %q: not a valid interface name", n.Name)
	}
	if n.HWAddr != "" {
		mac, err := net.ParseMAC(n.HWAddr)
		if err != nil || len(mac) != 6 || mac[0]&1 != 0 {
			return fmt.Errorf("hwaddr %q: not a unicast MAC address", n.HWAddr)
		}
	}
	if n.MTU != 0 && (n.MTU < 64 || n.MTU > 65535) {
		return fmt.Errorf("mtu %d: out of range 64-65535", n.MTU)
	}
	switch n.IP {
	case "", "dhcp", "manual":
	default:
		if p, err := netip.ParsePrefix(n.IP); err != nil || !p.Addr().Is4() {
			return fmt.Errorf("ip %q: not an IPv4 address with prefix length, dhcp or manual", n.IP)
		}
	}
	switch n.IP6 {
	case "", "auto", "dhcp", "manual":
	default:
		if p, err := netip.ParsePrefix(n.IP6); err != nil || !p.Addr().Is6() {
			return fmt.Errorf("ip6 %q: not an IPv6 address with prefix length, auto, dhcp or manual", n.IP6)
		}
	}
	if a, err := netip.ParseAddr(n.GW); n.GW != "" && (err != nil || !a.Is4()) {
		return fmt.Errorf("gw %q: not an IPv4 address", n.GW)
	}
	if a, err := netip.ParseAddr(n.GW6); n.GW6 != "" && (err != nil || !a.Is6()) {
		return fmt.Errorf("gw6 %q: not an IPv6 address", n.GW6)
	}
	return nil
}

package pveschema

import (
	"regexp"
	"strconv"
	"strings"
)

// IP address grammar as PVE::Tools defines $IPV4RE and $IPV6RE (RFC 3986):
// no leading zeros in IPv4 octets, every IPv6 "::" form, an embedded IPv4
// tail allowed.
const (
	ipv4Octet = `(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])`
	ipv4Expr  = `(?:(?:` + ipv4Octet + `\.){3}` + ipv4Octet + `)`
	h16       = `(?:[0-9a-fA-F]{1,4})`
	ls32      = `(?:` + ipv4Expr + `|` + h16 + `:` + h16 + `)`
)

var ipv6Expr = func() string {
	upTo := func(n int) string { // "(h16:){0,n}h16", the part before "::"
		return `(?:(?:` + h16 + `:){0,` + strconv.Itoa(n) + `}` + h16 + `)?`
	}
	alts := []string{
		`(?:` + h16 + `:){6}` + ls32,
		`::(?:` + h16 + `:){5}` + ls32,
		`(?:` + h16 + `)?::(?:` + h16 + `:){4}` + ls32,
		upTo(1) + `::(?:` + h16 + `:){3}` + ls32,
		upTo(2) + `::(?:` + h16 + `:){2}` + ls32,
		upTo(3) + `::` + h16 + `:` + ls32,
		upTo(4) + `::` + ls32,
		upTo(5) + `::` + h16,
		upTo(6) + `::`,
	}
	return `(?:` + strings.Join(alts, "|") + `)`
}()

var (
	ipv4RE      = mustPerlRE(ipv4Expr)
	ipv6RE      = mustPerlRE(ipv6Expr)
	ipRE        = mustPerlRE(ipv4Expr + `|` + ipv6Expr)
	cidrv4RE    = mustPerlRE(ipv4Expr + `/([0-9]+)`)
	cidrv6RE    = mustPerlRE(ipv6Expr + `/([0-9]+)`)
	ipv4CfgRE   = mustPerlRE(`dhcp|manual`)
	ipv6CfgRE   = mustPerlRE(`auto|dhcp|manual`)
	linkLocalRE = regexp.MustCompile(`^(fe80:[^%]+)%(.*)$`)

	checkIPv4 = regexCheck(ipv4RE, fixed("value does not look like a valid IPv4 address\n"))
	checkIPv6 = regexCheck(ipv6RE, fixed("value does not look like a valid IPv6 address\n"))
	checkIP   = regexCheck(ipRE, fixed("value does not look like a valid IP address\n"))
)

// cidrOK matches an address/prefix whose prefix length PVE accepts:
// more than 7 and at most maxBits.
func cidrOK(re *regexp.Regexp, s string, maxBits float64) bool {
	m := re.FindStringSubmatch(s)
	if m == nil {
		m = re.FindStringSubmatch(strings.TrimSuffix(s, "\n"))
	}
	if m == nil {
		return false
	}
	bits, err := strconv.ParseFloat(m[1], 64)
	return err == nil && bits > 7 && bits <= maxBits
}

func checkCIDRv4(s string) string {
	if cidrOK(cidrv4RE, s, 32) {
		return ""
	}
	return "value does not look like a valid IPv4 CIDR network\n"
}

func checkCIDRv6(s string) string {
	if cidrOK(cidrv6RE, s, 128) {
		return ""
	}
	return "value does not look like a valid IPv6 CIDR network\n"
}

func checkCIDR(s string) string {
	if cidrOK(cidrv4RE, s, 32) || cidrOK(cidrv6RE, s, 128) {
		return ""
	}
	return "value does not look like a valid CIDR network\n"
}

// checkIPv4Config is pve-ipv4-config: dhcp, manual or an IPv4 CIDR.
func checkIPv4Config(s string) string {
	if perlFullMatch(ipv4CfgRE, s) || cidrOK(cidrv4RE, s, 32) {
		return ""
	}
	return "value does not look like a valid ipv4 network configuration\n"
}

// checkIPv6Config is pve-ipv6-config: auto, dhcp, manual or an IPv6 CIDR.
func checkIPv6Config(s string) string {
	if perlFullMatch(ipv6CfgRE, s) || cidrOK(cidrv6RE, s, 128) {
		return ""
	}
	return "value does not look like a valid ipv6 network configuration\n"
}

// checkAddress is PVE's "address": an IP or a DNS name.
func checkAddress(s string) string {
	if checkIP(s) == "" || checkDNSName(s) == "" {
		return ""
	}
	return "value does not look like a valid address: " + s + "\n"
}

// checkIPWithLinkLocalIface is lxc-ip-with-ll-iface (nameserver): an IP, or
// a link-local IPv6 address with "%interface".
func checkIPWithLinkLocalIface(s string) string {
	if m := linkLocalRE.FindStringSubmatch(s); m != nil {
		if checkIP(m[1]) == "" && checkIface(m[2]) == "" {
			return ""
		}
	}
	return checkIP(s)
}

var (
	hostPortRE      = mustPerlRE(`(?:` + ipv4Expr + `|[[:alnum:]\-.]+)(?::[0-9]+)?`)
	bracketedIPv6RE = mustPerlRE(`\[` + ipv6Expr + `\](?::[0-9]+)?`)
	ipv6DotPortRE   = mustPerlRE(ipv6Expr + `(?:\.[0-9]+)?`)
)

// checkPortalDNS is pve-storage-portal-dns: PVE::Tools::parse_host_and_port
// (host or IPv4 with ":port", "[IPv6]:port", or IPv6 with ".port").
func checkPortalDNS(s string) string {
	if perlFullMatch(hostPortRE, s) || perlFullMatch(bracketedIPv6RE, s) || perlFullMatch(ipv6DotPortRE, s) {
		return ""
	}
	return "value does not look like a valid portal address\n"
}

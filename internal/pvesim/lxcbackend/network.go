package lxcbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// hostNetwork is the part of the host's network a backend owns: one bridge
// with the subnet's first address as the containers' gateway, and one
// nftables table that either isolates the bridge or masquerades it.
type hostNetwork struct {
	Bridge   string       `json:"bridge"`
	NftTable string       `json:"nft_table"`
	Subnet   netip.Prefix `json:"subnet"`
	Egress   bool         `json:"egress"`
}

// gateway is the bridge's address, the containers' default gateway.
func (n hostNetwork) gateway() netip.Addr {
	return n.Subnet.Masked().Addr().Next()
}

// up creates the bridge and the nftables table. The caller has checked
// that no interface of the bridge's name exists: the backend never adopts
// (and so never deletes) an interface it did not create.
func (n hostNetwork) up(ctx context.Context) error {
	steps := [][]string{
		{"link", "add", "name", n.Bridge, "type", "bridge"},
		{"addr", "add", fmt.Sprintf("%s/%d", n.gateway(), n.Subnet.Bits()), "dev", n.Bridge},
		{"link", "set", n.Bridge, "up"},
	}
	for _, args := range steps {
		if _, err := runCommand(ctx, "ip", args...); err != nil {
			return fmt.Errorf("bridge %s: %w", n.Bridge, err)
		}
	}
	return n.applyRules(ctx)
}

// ruleset is the nftables table: without egress, nothing is forwarded
// between the bridge and any other interface (traffic between containers
// and to the host's own addresses stays possible), and a container's
// attempt to reach beyond is refused at once rather than left to time out;
// with egress, the subnet is masqueraded out of any other interface.
func (n hostNetwork) ruleset() string {
	if n.Egress {
		return fmt.Sprintf(`table inet %[1]s {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "%[2]s" accept
		oifname "%[2]s" ct state established,related accept
		oifname "%[2]s" iifname != "%[2]s" drop
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr %[3]s oifname != "%[2]s" masquerade
	}
}
`, n.NftTable, n.Bridge, n.Subnet.Masked())
	}
	return fmt.Sprintf(`table inet %[1]s {
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		iifname "%[2]s" ip daddr != %[3]s fib daddr type unicast reject with icmpx type admin-prohibited
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "%[2]s" oifname != "%[2]s" drop
		oifname "%[2]s" iifname != "%[2]s" drop
	}
}
`, n.NftTable, n.Bridge, n.Subnet.Masked())
}

// applyRules loads the table.
func (n hostNetwork) applyRules(ctx context.Context) error {
	rules := n.ruleset()
	f, err := os.CreateTemp("", "lxcbackend-nft-*.conf")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.WriteString(rules); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if _, err := runCommand(ctx, "nft", "-f", f.Name()); err != nil {
		return fmt.Errorf("nftables table %s: %w", n.NftTable, err)
	}
	return nil
}

// down removes the table and the bridge if they exist.
func (n hostNetwork) down(ctx context.Context) error {
	var errs []error
	if n.NftTable != "" {
		if _, err := runCommand(ctx, "nft", "list", "table", "inet", n.NftTable); err == nil {
			if _, err := runCommand(ctx, "nft", "delete", "table", "inet", n.NftTable); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if n.Bridge != "" && linkExists(ctx, n.Bridge) {
		if _, err := runCommand(ctx, "ip", "link", "delete", n.Bridge, "type", "bridge"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// linkExists reports whether the host has an interface of that name.
func linkExists(ctx context.Context, name string) bool {
	_, err := runCommand(ctx, "ip", "link", "show", "dev", name)
	return err == nil
}

// hostPrefixes lists every prefix the host's addresses and routes cover, in
// all routing tables, so a subnet can be checked for conflicts.
func hostPrefixes(ctx context.Context) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	out, err := runCommand(ctx, "ip", "-j", "-4", "addr", "show")
	if err != nil {
		return nil, err
	}
	var links []struct {
		AddrInfo []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return nil, fmt.Errorf("parsing `ip -j addr`: %w", err)
	}
	for _, link := range links {
		for _, a := range link.AddrInfo {
			if p, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", a.Local, a.PrefixLen)); err == nil {
				prefixes = append(prefixes, p.Masked())
			}
		}
	}
	out, err = runCommand(ctx, "ip", "-j", "-4", "route", "show", "table", "all")
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Dst string `json:"dst"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return nil, fmt.Errorf("parsing `ip -j route`: %w", err)
	}
	for _, route := range routes {
		dst := route.Dst
		if dst == "" || dst == "default" {
			continue
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		if p, err := netip.ParsePrefix(dst); err == nil {
			prefixes = append(prefixes, p.Masked())
		}
	}
	return prefixes, nil
}

// subnetConflict names the host prefix a subnet overlaps, or "".
func subnetConflict(subnet netip.Prefix, host []netip.Prefix) string {
	for _, p := range host {
		if p.Overlaps(subnet) {
			return p.String()
		}
	}
	return ""
}

// pickSubnet chooses a free private /24 for a backend: 10.99.<n>.0/24,
// starting at a number derived from the state directory so simulators tend
// to keep their subnet between runs, and skipping every prefix the host
// already uses.
func pickSubnet(start byte, host []netip.Prefix) (netip.Prefix, error) {
	for i := range 256 {
		third := start + byte(i)
		subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 99, third, 0}), 24)
		if subnetConflict(subnet, host) == "" {
			return subnet, nil
		}
	}
	return netip.Prefix{}, errors.New("no free subnet in 10.99.0.0/16 for the containers' bridge; set one explicitly")
}

package lxcbackend

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// maskedUnits are units of the Debian image that misbehave in a simulated
// node: the apt timers would reach for the internet (absent without egress)
// and hold the dpkg lock in the middle of provisioning.
var maskedUnits = []string{"apt-daily.timer", "apt-daily-upgrade.timer"}

// hostCADir holds the host's extra CA certificates. With egress the host's
// TLS may be intercepted by a proxy whose CA lives there; containers get a
// copy at create time (never in the cached image, as CAs differ per host).
const hostCADir = "/usr/local/share/ca-certificates"

// guestSetup is what the node writes into a container's root filesystem, as
// Proxmox VE's setup code does before a start: names, resolver, network
// configuration.
type guestSetup struct {
	spec        backend.ContainerSpec
	addresses   map[int]netip.Prefix
	nameservers []string
	search      string
}

// shortHostname is the first label of the container's host name.
func shortHostname(spec backend.ContainerSpec) string {
	short, _, _ := strings.Cut(containerHostname(spec), ".")
	return short
}

// containerHostname is the configured host name or Proxmox VE's default.
func containerHostname(spec backend.ContainerSpec) string {
	if spec.Hostname != "" {
		return spec.Hostname
	}
	return fmt.Sprintf("CT%d", spec.VMID)
}

// hostsFile lists the container's own name first on its first static
// address (127.0.1.1 without one), like Debian and Proxmox VE do.
func (s guestSetup) hostsFile() string {
	name := containerHostname(s.spec)
	short := shortHostname(s.spec)
	fqdn := name
	if !strings.Contains(name, ".") && s.search != "" {
		fqdn = name + "." + s.search
	}
	names := fqdn
	if fqdn != short {
		names += " " + short
	}
	own := "127.0.1.1"
	for _, n := range sortedNetworks(s.spec.Networks) {
		if p, ok := s.addresses[n.Index]; ok {
			own = p.Addr().String()
			break
		}
	}
	return fmt.Sprintf("127.0.0.1\tlocalhost\n%s\t%s\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n", own, names)
}

// resolvConf points the container at its name servers.
func (s guestSetup) resolvConf() string {
	var b strings.Builder
	if s.search != "" {
		fmt.Fprintf(&b, "search %s\n", s.search)
	}
	for _, ns := range s.nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	return b.String()
}

// interfacesFile declares every interface "manual": LXC has already set the
// addresses before init runs, and ifupdown adding them again would fail
// networking.service (or, with "dhcp", start a DHCP client that has no
// server on the bridge).
func (s guestSetup) interfacesFile() string {
	var b strings.Builder
	b.WriteString("# Written by the simulated Proxmox VE node: LXC configures the addresses.\nauto lo\niface lo inet loopback\n")
	for _, n := range sortedNetworks(s.spec.Networks) {
		name := interfaceName(n)
		fmt.Fprintf(&b, "\nauto %s\niface %s inet manual\n", name, name)
		if n.IP6 != "" && n.IP6 != "manual" {
			fmt.Fprintf(&b, "iface %s inet6 manual\n", name)
		}
	}
	return b.String()
}

// write puts the setup files into the container.
func (s guestSetup) write(g *guestFS) error {
	files := []struct {
		name string
		data string
	}{
		{"etc/hostname", shortHostname(s.spec) + "\n"},
		{"etc/hosts", s.hostsFile()},
		{"etc/resolv.conf", s.resolvConf()},
	}
	if g.exists("etc/network") {
		files = append(files, struct {
			name string
			data string
		}{"etc/network/interfaces", s.interfacesFile()})
	}
	for _, f := range files {
		if err := g.writeFile(f.name, []byte(f.data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeFirstBoot gives a new container (created or cloned) its own
// machine id and masks the units that misbehave here.
func writeFirstBoot(g *guestFS) error {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	if err := g.writeFile("etc/machine-id", []byte(hex.EncodeToString(id)+"\n"), 0o444); err != nil {
		return err
	}
	if !g.exists("etc/systemd/system") {
		return nil
	}
	for _, unit := range maskedUnits {
		if err := g.symlink("/dev/null", "etc/systemd/system/"+unit); err != nil {
			return err
		}
	}
	return nil
}

// writeHostCAs adds the host's extra CA certificates to the container's
// trust store, so TLS through an intercepting egress proxy works.
func writeHostCAs(g *guestFS) error {
	crts, err := filepath.Glob(filepath.Join(hostCADir, "*.crt"))
	if err != nil || len(crts) == 0 || !g.exists("etc/ssl/certs/ca-certificates.crt") {
		return err
	}
	bundle, err := g.readFile("etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return err
	}
	for _, crt := range crts {
		pem, err := os.ReadFile(crt)
		if err != nil {
			return err
		}
		if err := g.writeFile("usr/local/share/ca-certificates/"+filepath.Base(crt), pem, 0o644); err != nil {
			return err
		}
		if !strings.Contains(string(bundle), strings.TrimSpace(string(pem))) {
			if len(bundle) > 0 && bundle[len(bundle)-1] != '\n' {
				bundle = append(bundle, '\n')
			}
			bundle = append(bundle, pem...)
		}
	}
	return g.writeFile("etc/ssl/certs/ca-certificates.crt", bundle, 0o644)
}

// interfaceName is the interface's name inside the container; Proxmox VE
// requires one, eth<N> stands in when a spec lacks it.
func interfaceName(n backend.Network) string {
	if n.Name != "" {
		return n.Name
	}
	return fmt.Sprintf("eth%d", n.Index)
}

// sortedNetworks orders interfaces by their netN index.
func sortedNetworks(nets []backend.Network) []backend.Network {
	out := append([]backend.Network(nil), nets...)
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

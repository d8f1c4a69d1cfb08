package lxcbackend

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// lxcNestingConfig is LXC's stock snippet for nesting. (Its userns.conf is
// not used for unprivileged containers: its sys:rw lets systemd try to
// mount debugfs, which fails in a user namespace and leaves the container
// "degraded"; root-run LXC sets up devices and capabilities fine without it.)
const lxcNestingConfig = "/usr/share/lxc/config/nesting.conf"

// cgroupLayout says which cgroup keys LXC understands on this host: Proxmox
// VE writes lxc.cgroup2.* for its pure cgroup v2 hosts, while the CI machines
// run a hybrid layout whose memory and cpuset controllers are v1.
type cgroupLayout struct {
	unified bool // cgroup v2 only: lxc.cgroup2.* keys
	memsw   bool // v1 swap accounting: memory.memsw.limit_in_bytes exists
}

// detectCgroups inspects /sys/fs/cgroup.
func detectCgroups() cgroupLayout {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return cgroupLayout{unified: true}
	}
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	return cgroupLayout{memsw: err == nil}
}

// cgroupSetting is one controller file and the value a container's limits
// give it.
type cgroupSetting struct {
	file  string
	value string
}

// limits turns memory, swap and cores into cgroup settings, in an order
// that can be written from an unlimited state (v1 wants memory below
// memory+swap at every step).
func (c cgroupLayout) limits(spec backend.ContainerSpec, cpus []int) []cgroupSetting {
	var out []cgroupSetting
	const mib = 1 << 20
	if spec.MemoryMiB > 0 {
		memory := int64(spec.MemoryMiB) * mib
		swap := int64(max(spec.SwapMiB, 0)) * mib
		if c.unified {
			out = append(out,
				cgroupSetting{"memory.max", strconv.FormatInt(memory, 10)},
				cgroupSetting{"memory.swap.max", strconv.FormatInt(swap, 10)})
		} else {
			out = append(out, cgroupSetting{"memory.limit_in_bytes", strconv.FormatInt(memory, 10)})
			if c.memsw {
				out = append(out, cgroupSetting{"memory.memsw.limit_in_bytes", strconv.FormatInt(memory+swap, 10)})
			}
		}
	}
	if spec.Cores > 0 && len(cpus) > 0 {
		n := min(spec.Cores, len(cpus))
		list := make([]string, n)
		for i := range n {
			list[i] = strconv.Itoa(cpus[i])
		}
		out = append(out, cgroupSetting{"cpuset.cpus", strings.Join(list, ",")})
	}
	return out
}

// unlimited is the value that lifts a controller file's limit.
func (c cgroupLayout) unlimited(file string, cpus []int) string {
	switch {
	case file == "cpuset.cpus":
		list := make([]string, len(cpus))
		for i, cpu := range cpus {
			list[i] = strconv.Itoa(cpu)
		}
		return strings.Join(list, ",")
	case c.unified:
		return "max"
	default:
		return "-1"
	}
}

// configKey is the LXC configuration key of a controller file.
func (c cgroupLayout) configKey(file string) string {
	if c.unified {
		return "lxc.cgroup2." + file
	}
	return "lxc.cgroup." + file
}

// onlineCPUs lists the host's online CPUs, which `cores` picks from.
func onlineCPUs() []int {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil
	}
	var cpus []int
	for part := range strings.SplitSeq(strings.TrimSpace(string(data)), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for cpu := first; cpu <= last; cpu++ {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}

// lxcConfig is what a container's LXC configuration file is made from.
type lxcConfig struct {
	state   *containerState
	lowers  []string // read-only layers, top first: a linked clone's template layers, then the base
	upper   string
	bridge  string
	gateway netip.Addr
	cgroups cgroupLayout
	cpus    []int
}

// render writes the LXC configuration. Every netN goes onto the backend's
// bridge whatever bridge the spec names: the simulated vmbr0 is that bridge.
// Only the first interface with a gateway gets the default route (a second
// one would make the start fail).
func (c lxcConfig) render() string {
	spec := c.state.Spec
	var b strings.Builder
	line := func(key, value string) { fmt.Fprintf(&b, "%s = %s\n", key, value) }
	fmt.Fprintf(&b, "# CT %d of a simulated Proxmox VE node (terraform-provider-pve lxc backend).\n# Rewritten on every change; edits are lost.\n", spec.VMID)
	line("lxc.include", lxcCommonConfig)
	if featureOn(spec, "nesting") {
		line("lxc.include", lxcNestingConfig)
	}
	line("lxc.arch", debianArch())
	line("lxc.uts.name", containerHostname(spec))
	line("lxc.rootfs.path", fmt.Sprintf("overlay:%s:%s", strings.Join(c.lowers, ":"), c.upper))
	if c.state.Unprivileged {
		// An unprivileged container mounts its overlay inside its user
		// namespace, where overlayfs cannot write trusted.* xattrs: without
		// userxattr, removing or renaming a directory of the base fails
		// with EIO or EXDEV (dpkg cannot install packages).
		line("lxc.rootfs.options", "userxattr")
	}
	line("lxc.apparmor.profile", "unconfined")
	line("lxc.tty.max", "2")
	if c.state.Unprivileged {
		line("lxc.idmap", fmt.Sprintf("u 0 %d %d", unprivilegedIDBase, idMapSize))
		line("lxc.idmap", fmt.Sprintf("g 0 %d %d", unprivilegedIDBase, idMapSize))
	}
	if featureOn(spec, "fuse") {
		line("lxc.mount.entry", "/dev/fuse dev/fuse none bind,create=file,optional 0 0")
	}
	for _, s := range c.cgroups.limits(spec, c.cpus) {
		line(c.cgroups.configKey(s.file), s.value)
	}
	hasGateway4, hasGateway6 := false, false
	for _, n := range sortedNetworks(spec.Networks) {
		key := func(k string) string { return fmt.Sprintf("lxc.net.%d.%s", n.Index, k) }
		line(key("type"), "veth")
		line(key("link"), c.bridge)
		line(key("name"), interfaceName(n))
		line(key("flags"), "up")
		line(key("hwaddr"), c.state.HWAddrs[n.Index])
		if n.MTU > 0 {
			line(key("mtu"), strconv.Itoa(n.MTU))
		}
		if p, ok := c.state.Addresses[n.Index]; ok {
			line(key("ipv4.address"), p.String())
			if gw := ipv4Gateway(n, c.gateway); gw != "" && !hasGateway4 {
				line(key("ipv4.gateway"), gw)
				hasGateway4 = true
			}
		}
		if p, err := netip.ParsePrefix(n.IP6); err == nil && p.Addr().Is6() {
			line(key("ipv6.address"), p.String())
			if n.GW6 != "" && !hasGateway6 {
				line(key("ipv6.gateway"), n.GW6)
				hasGateway6 = true
			}
		}
	}
	return b.String()
}

// ipv4Gateway is an interface's default gateway: the configured one, or the
// bridge for an address the backend handed out in place of DHCP.
func ipv4Gateway(n backend.Network, bridgeGateway netip.Addr) string {
	if n.GW != "" {
		return n.GW
	}
	if n.IP == "dhcp" {
		return bridgeGateway.String()
	}
	return ""
}

// featureOn reports whether a Proxmox VE feature flag is set.
func featureOn(spec backend.ContainerSpec, name string) bool {
	v, ok := spec.Features[name]
	if !ok {
		return false
	}
	on, ok := pveformat.ParseBool(v)
	return ok && on
}

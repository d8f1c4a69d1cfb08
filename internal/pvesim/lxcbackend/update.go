package lxcbackend

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// Update applies a changed spec. The configuration and the node's files
// (hostname, hosts, resolver, interfaces) are rewritten at once and take
// full effect at the next start. A running container also gets, live, what
// Proxmox VE hot-plugs: memory, swap and cores (cgroup limits), its host
// name, and new IPv4 addresses and gateways of interfaces it already has.
// Added or removed interfaces and changed MACs or MTUs wait for the next
// start. unprivileged cannot change (it is read-only on Proxmox VE too).
func (b *Backend) Update(ctx context.Context, spec backend.ContainerSpec) error {
	if err := validateSpec(spec); err != nil {
		return fmt.Errorf("CT %d: %w", spec.VMID, err)
	}
	st, err := b.loadState(spec.VMID)
	if err != nil {
		return err
	}
	old := *st
	old.Addresses = maps.Clone(st.Addresses)
	spec.Unprivileged = st.Unprivileged
	st.Spec = spec
	if st.Template {
		// Its files are written when a clone of it is configured, in the
		// clone's own layer; the template's layer stays as it is.
		return b.saveState(st)
	}
	if err := b.configure(ctx, st, false); err != nil {
		return fmt.Errorf("CT %d: %w", spec.VMID, err)
	}
	pid, running := b.initPID(ctx, spec.VMID)
	if !running {
		return nil
	}
	if err := b.applyLimits(ctx, spec.VMID, old.Spec, spec); err != nil {
		return err
	}
	if shortHostname(old.Spec) != shortHostname(spec) {
		var stderr strings.Builder
		code, err := b.attach(ctx, spec.VMID, []string{"hostname", shortHostname(spec)}, nil, nil, &stderr)
		if err != nil {
			return fmt.Errorf("CT %d: setting the host name: %w", spec.VMID, err)
		}
		if code != 0 {
			return fmt.Errorf("CT %d: setting the host name: exit %d%s", spec.VMID, code, outputTail(stderr.String(), 5))
		}
	}
	return b.applyAddresses(ctx, pid, &old, st)
}

// applyLimits writes changed cgroup limits of a running container. v1
// accepts memory only below memory+swap, so when one order is refused the
// other is tried.
func (b *Backend) applyLimits(ctx context.Context, vmid int, oldSpec, newSpec backend.ContainerSpec) error {
	before := b.cgroups.limits(oldSpec, b.cpus)
	after := b.cgroups.limits(newSpec, b.cpus)
	for _, s := range before {
		if !slices.ContainsFunc(after, func(n cgroupSetting) bool { return n.file == s.file }) {
			after = append(after, cgroupSetting{s.file, b.cgroups.unlimited(s.file, b.cpus)})
		}
	}
	var changed []cgroupSetting
	for _, s := range after {
		if !slices.Contains(before, s) {
			changed = append(changed, s)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	write := func(settings []cgroupSetting) error {
		for _, s := range settings {
			if _, err := runCommand(ctx, "lxc-cgroup", "-P", b.lxcPath, "-n", strconv.Itoa(vmid), s.file, s.value); err != nil {
				return err
			}
		}
		return nil
	}
	if err := write(changed); err != nil {
		reversed := slices.Clone(changed)
		slices.Reverse(reversed)
		if err2 := write(reversed); err2 != nil {
			return fmt.Errorf("CT %d: changing limits: %w", vmid, err)
		}
	}
	return nil
}

// applyAddresses moves changed IPv4 addresses and gateways of a running
// container's interfaces into place, from the host inside its network
// namespace.
func (b *Backend) applyAddresses(ctx context.Context, pid int, old, now *containerState) error {
	oldNets := map[int]backend.Network{}
	for _, n := range old.Spec.Networks {
		oldNets[n.Index] = n
	}
	for _, n := range now.Spec.Networks {
		prev, existed := oldNets[n.Index]
		if !existed || interfaceName(prev) != interfaceName(n) {
			continue
		}
		addr, hasAddr := now.Addresses[n.Index]
		if addr == old.Addresses[n.Index] && prev.GW == n.GW && prev.IP == n.IP {
			continue
		}
		name := interfaceName(n)
		steps := [][]string{{"-4", "addr", "flush", "dev", name, "scope", "global"}}
		if hasAddr {
			steps = append(steps, []string{"addr", "add", addr.String(), "dev", name})
			if gw := ipv4Gateway(n, b.net.gateway()); gw != "" {
				steps = append(steps, []string{"route", "replace", "default", "via", gw, "dev", name, "onlink"})
			}
		}
		for _, step := range steps {
			args := append([]string{"--target", strconv.Itoa(pid), "--net", "--", "ip"}, step...)
			if _, err := runCommand(ctx, "nsenter", args...); err != nil {
				return fmt.Errorf("CT %d: changing %s: %w", now.Spec.VMID, name, err)
			}
		}
	}
	return nil
}

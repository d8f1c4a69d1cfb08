// Package lxcbackend runs the simulated Proxmox VE node's containers as real
// LXC containers, so `pct exec` provisioning, systemd services and network
// discovery can be tested end to end without a Proxmox VE host.
//
// Each simulator owns a state directory whose lxc/ subdirectory is the LXC
// path (containers are named by VMID, as on Proxmox VE: `lxc-attach -P
// <state-dir>/lxc -n <vmid>` reaches one), a private bridge with a subnet it
// alone uses, and one nftables table. Containers boot systemd from a Debian
// image built once with mmdebstrap from the machine's own apt source. The
// image is extracted once into a shared, read-only base and every container
// gets an overlay on top of it, because unpacking a 500 MB tree per
// container costs 5–40 s on the CI machines while an overlay costs nothing.
// Unprivileged containers (ids shifted by 100000, as on Proxmox VE) use an
// id-shifted copy of the base; their root must be able to enter every
// directory above the state directory.
//
// What is simulated and what is not: cores, memory and swap become cgroup
// limits (v1 or v2 keys, whichever the host has); nesting and fuse are
// honoured, the other feature flags are accepted and ignored; the rootfs
// size is not enforced; ip=dhcp gets a static address from the bridge's
// subnet, since there is no DHCP server; every netN sits on the backend's
// bridge whatever bridge it names. A snapshot is a copy of the container's
// writable layer, taken while the container is frozen; a rollback puts a
// copy of it back (snapshot.go says what was measured). A template's
// writable layer is frozen for good: a linked clone stacks a layer of its
// own on the template's layers, so it is made in milliseconds whatever the
// template holds, and the template cannot start, roll back or be destroyed
// while clones stack on it; a full clone copies (template.go). A clone's
// /etc/machine-id is emptied, as Proxmox VE's post_clone_hook does, and
// systemd fills it at its first boot.
//
// Everything the backend creates on the host is recorded before it is made,
// so Close, or CleanupStale after a crash, can take it all down again; host
// settings shared by simulators (ip_forward, /etc/subuid) are restored by
// the last one to stop. The tests' harness, with a local apt, pip and npm
// repository on the bridge so that no test traffic leaves it, is package
// lxctest.
package lxcbackend

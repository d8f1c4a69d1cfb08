// Package lxcbackend runs the simulated Proxmox VE node's containers as real
// LXC containers, so `pct exec` provisioning, systemd services and network
// discovery can be tested end to end without a Proxmox VE host.
//
// Each simulator owns a state directory whose lxc/ subdirectory is the LXC
// path (containers are named by VMID, as on Proxmox VE), a private bridge
// with a /24 it alone uses, and one nftables table. Containers boot systemd
// from a Debian image built once with mmdebstrap from the machine's own apt
// source. The image is extracted once into a shared, read-only base and every
// container gets an overlay on top of it, because unpacking a 200 MB tree per
// container costs 5–40 s on the CI machines while an overlay costs nothing.
//
// Everything the backend creates on the host is recorded before it is made,
// so Close, or CleanupStale after a crash, can take it all down again.
// LocalRepo serves apt, pip and npm packages on the bridge so that tests
// never need traffic to leave it.
package lxcbackend

// Package lxcconf is Proxmox VE's LXC container configuration as the
// provider works with it: one Go value (Settings) for what a plan asks for
// and what GET …/config reports, the create parameters built from it, the
// in-place update between two of them, and the addresses a container has.
// It is free of Terraform types, so the mapping to PVE's keys and property
// strings is tested on its own; internal/provider converts its models to and
// from these types, block by block.
//
// Each config block owns one file here (features.go, network.go,
// mountpoint.go, startup.go): its struct, how it prints as a property
// string, how it parses back, and when two of them differ. Adding a PVE key
// to a block means editing that file and the block's file in the provider.
// snapshot.go judges, from the storage types, whether PVE can snapshot a
// container's volumes.
package lxcconf

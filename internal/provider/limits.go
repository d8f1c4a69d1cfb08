package provider

import (
	"math"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// The ranges of numeric settings. Where Proxmox VE's API schema gives a
// range (PVE 9.1, /nodes/{node}/lxc), these are that range; where it gives
// none, the bound is what the node can still represent, so that no value
// passes a plan only to be rounded, wrapped or refused on the way.
const (
	minVMID, maxVMID = 100, 999999999 // schema: vmid
	maxCores         = 8192           // schema: cores 1–8192
	maxCPULimit      = 8192           // schema: cpulimit 0–8192
	minMemoryMiB     = 16             // schema: memory 16–N
	// maxMemoryMiB bounds memory and swap, which the schema leaves open:
	// PVE hands the kernel their byte count (MiB × 2^20), which must fit
	// 64 bits (8 EiB).
	maxMemoryMiB = 1<<43 - 1
	// maxDiskGiB bounds rootfs and mount point sizes: PVE's disk sizes are
	// byte counts too (pveformat.MaxDiskGiB).
	maxDiskGiB             = pveformat.MaxDiskGiB
	minDiskGiB             = 0.1
	minVLANTag, maxVLANTag = 1, 4094       // schema: net[n].tag
	minMTU, maxMTU         = 64, 65535     // schema: net[n].mtu
	maxRateMBps            = 1<<43 - 1     // net[n].rate: PVE gives tc the byte rate (MB/s × 2^20)
	maxStartupValue        = math.MaxInt32 // startup up/down reach sleep() and lxc-stop --timeout as C ints
)

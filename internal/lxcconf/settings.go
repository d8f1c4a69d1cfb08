package lxcconf

// Settings is one container's configuration in Proxmox VE terms: what the
// plan asks for, or what GET …/config reports.
type Settings struct {
	Hostname     string
	Cores        int64   // 0 = unset (all host cores)
	CPULimit     float64 // 0 = unlimited
	Memory       int64   // MiB
	Swap         int64   // MiB
	Storage      string  // rootfs storage
	RootfsVolume string  // observed: e.g. local-lvm:vm-100-disk-0
	DiskGiB      float64
	Unprivileged bool
	Features     Features
	Networks     []Network
	Nameserver   string
	Searchdomain string
	Tags         []string // normalised as PVE stores them
	Description  string   // normalised (NormalizeDescription)
	OnBoot       bool
	Startup      Startup
	MountPoints  map[string]MountPoint // keyed by slot, mp0…mp255
}

// Defaults PVE applies to keys a config leaves out.
const (
	DefaultMemory = 512
	DefaultSwap   = 512
)

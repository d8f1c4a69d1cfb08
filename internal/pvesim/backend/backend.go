// Package backend defines what runs the containers the simulated Proxmox VE
// API describes. The API layer owns configs, locks and tasks; a Backend owns
// the containers themselves: the in-memory backend (no root needed, exec
// answered by a test hook) or real LXC containers on a private bridge.
package backend

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
)

// Backend materialises simulated containers. Lifecycle calls (Create,
// Update, Start, Stop, Destroy, Clone, Template, Snapshot, Rollback,
// DeleteSnapshot)
// for one VMID are serialised by the
// API layer; Exec and Interfaces may run concurrently with anything (a
// provisioning script runs for minutes while the API is polled), and calls
// for different VMIDs may run concurrently. Methods must honour ctx.
type Backend interface {
	// Name is the backend's --backend value ("memory", "lxc").
	Name() string

	// PrepareImage makes the OS image for an appliance template
	// (e.g. "debian-12-standard_12.7-1_amd64.tar.zst") available at path,
	// the storage file of the vztmpl volume an aplinfo download creates.
	// log receives task-log lines.
	PrepareImage(ctx context.Context, appliance, path string, log func(string)) error

	// Create builds the container's root filesystem from spec.ImagePath
	// and its runtime configuration. It does not start it.
	Create(ctx context.Context, spec ContainerSpec, log func(string)) error

	// Update applies a changed spec (network, limits, hostname) to an
	// existing container; a running container picks up what it can.
	Update(ctx context.Context, spec ContainerSpec) error

	// Start boots the container.
	Start(ctx context.Context, vmid int) error

	// Stop halts the container: a clean shutdown, or an immediate kill
	// when force is true.
	Stop(ctx context.Context, vmid int, force bool) error

	// Destroy removes the container and everything the backend made for it.
	// Destroying an unknown VMID is not an error.
	Destroy(ctx context.Context, vmid int) error

	// Clone creates dst's root filesystem from src's: a linked clone of a
	// template shares the template's filesystem copy-on-write (creating it
	// copies nothing, and the template must stay while the clone exists);
	// a full clone is a copy. Like Proxmox VE's post_clone_hook, it leaves
	// the clone's /etc/machine-id empty for its first boot to fill.
	Clone(ctx context.Context, src int, dst ContainerSpec, linked bool, log func(string)) error

	// Template turns a stopped container into a template: its filesystem
	// never changes again (linked clones share it), it cannot start, and
	// Destroy refuses it while linked clones exist.
	Template(ctx context.Context, vmid int) error

	// Snapshot captures the container's filesystem under name so that
	// Rollback can bring it back (Proxmox VE's volume snapshots). A running
	// container keeps running; it is frozen while its filesystem is
	// captured, so the capture is consistent. A name already captured is an
	// error.
	Snapshot(ctx context.Context, vmid int, name string) error

	// Rollback replaces the stopped container's filesystem with the one
	// captured under name; the snapshot stays. An unknown name or a running
	// container is an error.
	Rollback(ctx context.Context, vmid int, name string) error

	// DeleteSnapshot discards what Snapshot captured under name. An unknown
	// name is not an error, so a failed snapshot can always be cleaned up.
	DeleteSnapshot(ctx context.Context, vmid int, name string) error

	// Exec runs argv inside a running container as root, wiring stdin,
	// stdout and stderr through, and returns the command's own exit status.
	Exec(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int, err error)

	// Interfaces reports the running container's network interfaces,
	// loopback included.
	Interfaces(ctx context.Context, vmid int) ([]Interface, error)

	// Close stops and removes everything the backend created.
	Close() error
}

// ContainerSpec is what a backend needs to know about a container; the API
// layer derives it from the container's config.
type ContainerSpec struct {
	VMID         int
	Node         string
	Hostname     string
	ImagePath    string // the vztmpl volume's file; empty for clones
	Unprivileged bool
	MemoryMiB    int
	SwapMiB      int
	Cores        int
	RootfsBytes  int64
	Nameserver   string
	Searchdomain string
	Networks     []Network
	// Features are PVE's feature flags (nesting, keyctl, fuse, mknod, mount).
	Features map[string]string
}

// Network is one netN entry of a container config.
type Network struct {
	Index  int    // N of netN
	Name   string // interface name inside the container, e.g. eth0
	Bridge string
	HWAddr string
	IP     string // "dhcp", "manual", "" or an IPv4 CIDR
	GW     string
	IP6    string
	GW6    string
	MTU    int
}

// Interface is one network interface of a running container, as
// `ip addr` inside it lists it; GET /nodes/{node}/lxc/{vmid}/interfaces is
// built from it the way PVE's get_interfaces builds it.
type Interface struct {
	Name   string
	HWAddr string // lower-case, as ip prints it
	// Addresses are every address of the interface in ip's order (IPv4
	// first, then IPv6 with global before link-local addresses), each with
	// its prefix length: "10.0.0.5/24", "fe80::be24:11ff:feaa:bbcc/64".
	Addresses []netip.Prefix
}

// Inet is the interface's first IPv4 address with its prefix length
// ("10.0.0.5/24"), or "" when it has none.
func (i Interface) Inet() string {
	for _, a := range i.Addresses {
		if a.Addr().Is4() {
			return a.String()
		}
	}
	return ""
}

// LinkLocalIPv6 is the address the kernel gives every interface with
// IPv6 on (addr_gen_mode eui64): fe80:: plus the MAC as a modified EUI-64
// identifier. A malformed MAC gives an invalid prefix.
func LinkLocalIPv6(mac string) netip.Prefix {
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return netip.Prefix{}
	}
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10] = hw[0]^0x02, hw[1], hw[2]
	a[11], a[12] = 0xff, 0xfe
	a[13], a[14], a[15] = hw[3], hw[4], hw[5]
	return netip.PrefixFrom(netip.AddrFrom16(a), 64)
}

// ErrExecUnavailable is returned by backends that cannot run commands,
// e.g. the memory backend without a test hook.
var ErrExecUnavailable = errors.New("running commands inside containers needs the lxc backend (simulate --backend lxc); the memory backend only answers exec through a test hook")

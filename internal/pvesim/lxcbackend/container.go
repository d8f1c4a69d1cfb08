package lxcbackend

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// containerState is what the backend remembers about a container beside its
// LXC configuration (which is rendered from it): the spec last applied, the
// base its overlay sits on (with the template layers of a linked clone in
// between), whether it is a template, and the addresses and MACs it
// handed out.
type containerState struct {
	Spec         backend.ContainerSpec `json:"spec"`
	Base         string                `json:"base"`
	Unprivileged bool                  `json:"unprivileged"`
	Addresses    map[int]netip.Prefix  `json:"addresses"`
	HWAddrs      map[int]string        `json:"hwaddrs"`
	// Layers are the read-only layers between the container's writable
	// layer and its base, top first: the writable layers of the templates
	// it is a linked clone of (template.go).
	Layers []string `json:"layers,omitempty"`
	// Template is set once the container is a template: its writable
	// layer never changes again, since linked clones stack on it.
	Template bool `json:"template,omitempty"`
}

// lowers are the read-only layers of a container's overlay, top first.
func (b *Backend) lowers(st *containerState) []string {
	return append(slices.Clone(st.Layers), b.bases.path(st.Base, st.Unprivileged))
}

// Files of a container directory, <state-dir>/lxc/<vmid>/.
const (
	containerConfigFile = "config"         // LXC's configuration
	containerStateFile  = "simulator.json" // containerState
	containerUpperDir   = "delta"          // the overlay's writable layer
	containerWorkDir    = "work"           // overlayfs's work directory, where LXC expects it
	containerLogFile    = "lxc.log"        // lxc-start's log
)

// containerDir is where LXC keeps container vmid.
func (b *Backend) containerDir(vmid int) string {
	return filepath.Join(b.lxcPath, strconv.Itoa(vmid))
}

// loadState reads a container's state; a container the backend does not
// have is an error that names it.
func (b *Backend) loadState(vmid int) (*containerState, error) {
	data, err := os.ReadFile(filepath.Join(b.containerDir(vmid), containerStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("CT %d does not exist", vmid)
	}
	if err != nil {
		return nil, err
	}
	var st containerState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("CT %d: %s: %w", vmid, containerStateFile, err)
	}
	return &st, nil
}

// saveState writes a container's state atomically.
func (b *Backend) saveState(st *containerState) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(b.containerDir(st.Spec.VMID), containerStateFile), data, 0o644)
}

// Create builds a stopped container from spec.ImagePath: the image becomes
// (once, shared) the read-only base of an overlay whose writable layer is
// the container's own, then the node's setup files and the LXC
// configuration are written.
func (b *Backend) Create(ctx context.Context, spec backend.ContainerSpec, log func(string)) error {
	if spec.ImagePath == "" {
		return fmt.Errorf("CT %d: no OS image given", spec.VMID)
	}
	if err := validateSpec(spec); err != nil {
		return fmt.Errorf("CT %d: %w", spec.VMID, err)
	}
	dir, err := b.newContainerDir(spec)
	if err != nil {
		return err
	}
	st := &containerState{Spec: spec, Unprivileged: spec.Unprivileged}
	err = func() error {
		id, lower, err := b.bases.fromImage(ctx, spec.ImagePath, spec.Unprivileged, log)
		if err != nil {
			return err
		}
		st.Base = id
		if err := b.makeLayers(ctx, dir, lower, st.Unprivileged, ""); err != nil {
			return err
		}
		log(fmt.Sprintf("Detected container architecture: %s", debianArch()))
		return b.configure(ctx, st, true)
	}()
	if err != nil {
		_ = removeContainerDir(dir)
		return fmt.Errorf("unable to create CT %d - %w", spec.VMID, err)
	}
	return nil
}

// Clone makes dst a clone of src with dst's own names and addresses. A
// linked clone of a template stacks a new writable layer on the
// template's layers (nothing is copied); a full clone copies src's
// writable layer (shifted when dst's privilege differs), or the whole
// merged tree when src is itself a linked clone. Like Proxmox VE's
// post_clone_hook, the clone's /etc/machine-id is emptied, so systemd
// makes a new one at its first boot.
func (b *Backend) Clone(ctx context.Context, src int, dst backend.ContainerSpec, linked bool, log func(string)) error {
	if err := validateSpec(dst); err != nil {
		return fmt.Errorf("CT %d: %w", dst.VMID, err)
	}
	srcState, err := b.loadState(src)
	if err != nil {
		return err
	}
	if linked && !srcState.Template {
		return fmt.Errorf("clone CT %d to %d failed - only a template can have linked clones", src, dst.VMID)
	}
	if linked && srcState.Unprivileged != dst.Unprivileged {
		return fmt.Errorf("clone CT %d to %d failed - a linked clone has its template's privilege", src, dst.VMID)
	}
	dir, err := b.newContainerDir(dst)
	if err != nil {
		return err
	}
	st := &containerState{Spec: dst, Base: srcState.Base, Unprivileged: dst.Unprivileged}
	err = func() error {
		base, err := b.bases.variant(ctx, srcState.Base, st.Unprivileged, log)
		if err != nil {
			return err
		}
		if err := b.cloneLayers(ctx, srcState, st, dir, base, linked, log); err != nil {
			return err
		}
		if err := b.configure(ctx, st, false); err != nil {
			return err
		}
		return b.postClone(st)
	}()
	if err != nil {
		_ = removeContainerDir(dir)
		return fmt.Errorf("clone CT %d to %d failed - %w", src, dst.VMID, err)
	}
	return nil
}

// newContainerDir checks a new container's preconditions and makes its
// directory.
func (b *Backend) newContainerDir(spec backend.ContainerSpec) (string, error) {
	if spec.Unprivileged {
		if err := b.checkUnprivilegedPaths(); err != nil {
			return "", fmt.Errorf("CT %d: %w", spec.VMID, err)
		}
		if err := b.registry.ensureSubIDs(); err != nil {
			return "", fmt.Errorf("CT %d: %w", spec.VMID, err)
		}
	}
	dir := b.containerDir(spec.VMID)
	if err := os.Mkdir(dir, 0o755); err != nil { //nolint:gosec // unprivileged containers' root must be able to enter it
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("CT %d already exists on node", spec.VMID)
		}
		return "", err
	}
	return dir, nil
}

// makeLayers creates a container's writable layer (empty, or a copy of
// copyFrom) and overlayfs's work directory, owned by the container's root:
// an unprivileged container mounts its overlay as that user.
//
//nolint:gosec // paths of the backend's own directories; the layers must be enterable by the container's root
func (b *Backend) makeLayers(ctx context.Context, dir, lower string, unprivileged bool, copyFrom string) error {
	upper := filepath.Join(dir, containerUpperDir)
	uid := rootUID(unprivileged)
	if copyFrom != "" {
		if _, err := runCommand(ctx, "cp", "-a", "--reflink=auto", copyFrom, upper); err != nil {
			return err
		}
	} else {
		info, err := os.Stat(lower) //nolint:gosec // the backend's own rootfs cache
		if err != nil {
			return err
		}
		if err := os.Mkdir(upper, info.Mode().Perm()); err != nil {
			return err
		}
		if err := os.Chown(upper, uid, uid); err != nil {
			return err
		}
	}
	work := filepath.Join(dir, containerWorkDir)
	if err := os.Mkdir(work, 0o755); err != nil {
		return err
	}
	return os.Chown(work, uid, uid)
}

// configure assigns addresses, writes the node's files into the container
// and its LXC configuration. firstBoot also gives it a new machine id, the
// files of AddGuestFiles and, with egress, the host's CA certificates. A
// running container gets its files through its live root.
func (b *Backend) configure(ctx context.Context, st *containerState, firstBoot bool) error {
	if err := b.assignAddresses(st); err != nil {
		return err
	}
	dir := b.containerDir(st.Spec.VMID)
	lowers := b.lowers(st)
	uid := rootUID(st.Unprivileged)
	var guest *guestFS
	var err error
	if pid, running := b.initPID(ctx, st.Spec.VMID); running {
		guest, err = openRunningGuest(pid, uid)
	} else {
		guest, err = openStoppedGuest(filepath.Join(dir, containerUpperDir), lowers, uid)
	}
	if err != nil {
		return err
	}
	defer func() { _ = guest.Close() }()
	setup := guestSetup{spec: st.Spec, addresses: st.Addresses, search: st.Spec.Searchdomain}
	setup.nameservers = strings.Fields(strings.ReplaceAll(st.Spec.Nameserver, ",", " "))
	if len(setup.nameservers) == 0 {
		setup.nameservers, setup.search = b.defaultResolver(st.Spec.Searchdomain)
	}
	if err := setup.write(guest); err != nil {
		return err
	}
	if firstBoot {
		if err := writeFirstBoot(guest); err != nil {
			return err
		}
		b.mu.Lock()
		extra := maps.Clone(b.guestFiles)
		b.mu.Unlock()
		for path, content := range extra {
			if err := guest.writeFile(path, []byte(content), 0o644); err != nil {
				return err
			}
		}
		if b.net.Egress {
			if err := writeHostCAs(guest); err != nil {
				return err
			}
		}
	}
	config := lxcConfig{
		state:   st,
		lowers:  lowers,
		upper:   filepath.Join(dir, containerUpperDir),
		bridge:  b.net.Bridge,
		gateway: b.net.gateway(),
		cgroups: b.cgroups,
		cpus:    b.cpus,
	}
	return writeFileAtomic(filepath.Join(dir, containerConfigFile), []byte(config.render()), 0o644)
}

// defaultResolver is what a container gets without nameserver: like
// Proxmox VE, the host's resolvers when containers may reach them (egress);
// otherwise the bridge address, where a lookup fails at once instead of
// timing out.
func (b *Backend) defaultResolver(search string) ([]string, string) {
	if b.net.Egress {
		servers, hostSearch := hostResolvers()
		if len(servers) > 0 {
			if search == "" {
				search = hostSearch
			}
			return servers, search
		}
	}
	return []string{b.net.gateway().String()}, search
}

// hostResolvers reads the host's name servers that a container can reach
// (not loopback ones) and its search domain.
func hostResolvers() ([]string, string) {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil, ""
	}
	var servers []string
	search := ""
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if a, err := netip.ParseAddr(fields[1]); err == nil && !a.IsLoopback() {
				servers = append(servers, a.String())
			}
		case "search", "domain":
			search = fields[1]
		}
	}
	return servers, search
}

// assignAddresses fixes each interface's IPv4 address and MAC and records
// them in the container's state. ip=dhcp gets a free address of the
// backend's subnet (there is no DHCP server on the bridge): the one it had,
// or the first free one from a start derived from the VMID, so the same
// container tends to get the same address. It holds the backend's lock so
// concurrent creates never hand out one address twice.
func (b *Backend) assignAddresses(st *containerState) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	used, err := b.addressesInUse(st.Spec.VMID)
	if err != nil {
		return err
	}
	used[b.net.gateway()] = true
	addresses := map[int]netip.Prefix{}
	hwaddrs := map[int]string{}
	for _, n := range sortedNetworks(st.Spec.Networks) {
		hwaddrs[n.Index] = n.HWAddr
		if hwaddrs[n.Index] == "" {
			hwaddrs[n.Index] = st.HWAddrs[n.Index]
		}
		if hwaddrs[n.Index] == "" {
			hwaddrs[n.Index] = b.derivedMAC(st.Spec.VMID, n.Index)
		}
		switch n.IP {
		case "", "manual":
			continue
		case "dhcp":
			if prev, ok := st.Addresses[n.Index]; ok && prev.Bits() == b.net.Subnet.Bits() && b.net.Subnet.Contains(prev.Addr()) && !used[prev.Addr()] {
				addresses[n.Index] = prev
			} else {
				p, err := b.freeAddress(st.Spec.VMID, n.Index, used)
				if err != nil {
					return err
				}
				addresses[n.Index] = p
			}
		default:
			p, err := netip.ParsePrefix(n.IP)
			if err != nil || !p.Addr().Is4() {
				return fmt.Errorf("net%d: ip=%q is not an IPv4 address with prefix length, dhcp or manual", n.Index, n.IP)
			}
			addresses[n.Index] = p
		}
		used[addresses[n.Index].Addr()] = true
	}
	st.Addresses, st.HWAddrs = addresses, hwaddrs
	return b.saveState(st)
}

// addressesInUse collects the IPv4 addresses of every container but one.
func (b *Backend) addressesInUse(except int) (map[netip.Addr]bool, error) {
	used := map[netip.Addr]bool{}
	entries, err := os.ReadDir(b.lxcPath)
	if err != nil {
		return nil, err
	}
	for _, entry := range entries {
		vmid, err := strconv.Atoi(entry.Name())
		if err != nil || vmid == except {
			continue
		}
		st, err := b.loadState(vmid)
		if err != nil {
			continue // a container being created or removed
		}
		for _, p := range st.Addresses {
			used[p.Addr()] = true
		}
	}
	return used, nil
}

// freeAddress hands out an unused host address of the subnet.
func (b *Backend) freeAddress(vmid, index int, used map[netip.Addr]bool) (netip.Prefix, error) {
	subnet := b.net.Subnet.Masked()
	hostBits := 32 - subnet.Bits()
	if hostBits < 2 {
		return netip.Prefix{}, fmt.Errorf("net%d: subnet %s has no room for containers", index, subnet)
	}
	hosts := uint32(1)<<min(hostBits, 16) - 2 // .1 .. broadcast-1
	base := binary.BigEndian.Uint32(subnet.Addr().AsSlice())
	start := uint32(vmid-1+index*97) % hosts //nolint:gosec // small positive numbers; CT 101 tends to get .101
	for i := range hosts {
		offset := (start+i)%hosts + 1
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], base+offset)
		addr := netip.AddrFrom4(a)
		if !used[addr] {
			return netip.PrefixFrom(addr, subnet.Bits()), nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("net%d: no free address left in %s", index, subnet)
}

// derivedMAC is a stable, locally administered MAC for an interface the
// spec gives none.
func (b *Backend) derivedMAC(vmid, index int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%d", b.stateDir, vmid, index))
	return fmt.Sprintf("02:%02X:%02X:%02X:%02X:%02X", sum[0], sum[1], sum[2], sum[3], sum[4])
}

// Destroy stops and removes a container with everything the backend made
// for it; an unknown VMID is not an error, a template that linked clones
// still stack on is.
func (b *Backend) Destroy(ctx context.Context, vmid int) error {
	dir := b.containerDir(vmid)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	clones, err := b.linkedClones(vmid)
	if err != nil {
		return err
	}
	if len(clones) > 0 {
		return fmt.Errorf("unable to destroy CT %d - it is a template that linked clones %v still use", vmid, clones)
	}
	return destroyContainer(ctx, b.lxcPath, strconv.Itoa(vmid))
}

// destroyContainer kills a container of an LXC path and removes its
// directory. It is also how leftovers of a crashed simulator are removed.
func destroyContainer(ctx context.Context, lxcPath, name string) error {
	dir := filepath.Join(lxcPath, name)
	if _, err := os.Stat(filepath.Join(dir, containerConfigFile)); err == nil {
		if lxcState(ctx, lxcPath, name) != "STOPPED" {
			if _, err := runCommand(ctx, "lxc-stop", "-P", lxcPath, "-n", name, "-k"); err != nil && lxcState(ctx, lxcPath, name) != "STOPPED" {
				return fmt.Errorf("unable to destroy CT %s - %w", name, err)
			}
		}
	}
	if err := removeContainerDir(dir); err != nil {
		return fmt.Errorf("unable to destroy CT %s - %w", name, err)
	}
	return nil
}

// removeContainerDir deletes a container directory, refusing when anything
// is still mounted below it: removal must never reach through a mount.
func removeContainerDir(dir string) error {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(mounts)) {
		fields := strings.Fields(line)
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			return fmt.Errorf("%s is still mounted; not removing %s", fields[4], dir)
		}
	}
	return os.RemoveAll(dir) //nolint:gosec // a container directory of the backend's own LXC path
}

// writeFileAtomic replaces a file through a temporary file and a rename.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil { //nolint:gosec // paths of the backend's own state
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

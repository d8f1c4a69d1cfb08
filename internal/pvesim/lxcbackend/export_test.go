package lxcbackend

import (
	"io/fs"
	"net/netip"
)

// The real-container tests are an external package (lxcbackend_test) so
// that they can use the shared harness in lxctest, which imports this
// package. What they observe of the backend's internals is exported here,
// for them only.

// Layout and host paths the tests inspect.
const (
	ContainerConfigFile = containerConfigFile
	ContainerUpperDir   = containerUpperDir
	UnprivilegedIDBase  = unprivilegedIDBase
	IPForwardPath       = ipForwardPath
	HostCADir           = hostCADir
)

// HostNetwork is the run record's network (bridge, nftables table, subnet).
type HostNetwork = hostNetwork

var (
	RunRecordFile = runRecordFile
	LXCState      = lxcState
	LinkExists    = linkExists
	HostResolvers = hostResolvers
	FileOwner     = func(info fs.FileInfo) (uid, gid int, ok bool) { return fileOwner(info) }
)

// NftTable is the name of the backend's nftables table.
func (b *Backend) NftTable() string { return b.net.NftTable }

// SnapshotDir is where a container's snapshot is kept.
func (b *Backend) SnapshotDir(vmid int, name string) string { return b.snapshotDir(vmid, name) }

// Addresses are the IPv4 addresses the backend assigned to a container's
// interfaces, by index.
func (b *Backend) Addresses(vmid int) (map[int]netip.Prefix, error) {
	st, err := b.loadState(vmid)
	if err != nil {
		return nil, err
	}
	return st.Addresses, nil
}

// MachineMirror is the Debian mirror of the machine's own apt sources,
// from which the backend builds its image.
func MachineMirror() (string, error) { return debianMirror(aptSourcesDir, "bookworm") }

// OtherSimulatorsAlive reports whether a simulator other than the one on
// stateDir is running on this machine.
func OtherSimulatorsAlive(stateDir string) (bool, error) {
	registry := hostRegistry{dir: hostRegistryDir}
	var alive bool
	err := registry.locked(func() (err error) { alive, err = registry.othersAlive(stateDir); return err })
	return alive, err
}

package lxcbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// Config says where a backend keeps its containers and which part of the
// host's network it owns.
type Config struct {
	// StateDir is the simulator's state directory; <StateDir>/lxc is the
	// LXC path, so simulators with different state directories never
	// collide. Required. For unprivileged containers every directory above
	// it must be searchable by others (o+x).
	StateDir string
	// CacheDir keeps built OS images across runs and simulators; default
	// DefaultCacheDir().
	CacheDir string
	// RootfsCacheDir keeps the extracted images containers overlay;
	// default DefaultRootfsCacheDir.
	RootfsCacheDir string
	// Bridge is the name of the bridge the backend creates (at most 15
	// characters; it must not exist yet). Default: derived from StateDir.
	Bridge string
	// Subnet is the private IPv4 subnet of the bridge; the bridge takes its
	// first address, the containers' gateway. It must not overlap anything
	// the host routes. Default: a free 10.99.N.0/24.
	Subnet netip.Prefix
	// Egress lets containers reach beyond the bridge through NAT. Without
	// it (what tests use) they reach each other and the bridge address only.
	Egress bool
	// Logf receives progress and warnings; nil discards them.
	Logf func(format string, args ...any)
}

// DefaultCacheDir is where OS images are cached: TF_PROVIDER_PVE_CACHE (the
// project's cache directory, as the Makefile sets it) or the user's cache
// directory, then terraform-provider-pve/images.
func DefaultCacheDir() string {
	if dir := os.Getenv("TF_PROVIDER_PVE_CACHE"); dir != "" {
		return filepath.Join(dir, "images")
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "terraform-provider-pve", "images")
}

// Backend runs a simulator's containers as LXC containers. It implements
// backend.Backend.
type Backend struct {
	stateDir string
	lxcPath  string
	cacheDir string
	bases    *baseStore
	net      hostNetwork
	registry hostRegistry
	cgroups  cgroupLayout
	cpus     []int
	logf     func(format string, args ...any)
	lock     *os.File // the state directory's lock, held while the backend lives

	mu         sync.Mutex // address assignment, guestFiles, closed
	guestFiles map[string]string
	closed     bool
}

var _ backend.Backend = (*Backend)(nil)

// setupTimeout bounds New's and Close's work on the host.
const setupTimeout = 2 * time.Minute

// bridgeName is what Linux accepts as an interface name.
var bridgeName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)

// New sets up a backend: it takes the state directory's lock (one simulator
// per state directory), removes what a crashed previous run with the same
// state directory left behind, then creates the bridge and the nftables
// table. Everything it creates is recorded first, so Close or a later
// CleanupStale can remove it.
func New(cfg Config) (*Backend, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if cfg.StateDir == "" {
		return nil, errors.New("lxc backend: a state directory is required")
	}
	stateDir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("lxc backend: state directory: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil { //nolint:gosec // unprivileged containers' root must be able to enter it
		return nil, fmt.Errorf("lxc backend: state directory: %w", err)
	}
	lock, err := tryLockFile(stateLockFile(stateDir))
	if errors.Is(err, errLockBusy) {
		return nil, fmt.Errorf("lxc backend: state directory %s is in use by another simulator", stateDir)
	}
	if err != nil {
		return nil, fmt.Errorf("lxc backend: %w", err)
	}
	b := &Backend{
		stateDir: stateDir,
		lxcPath:  filepath.Join(stateDir, "lxc"),
		cacheDir: cfg.CacheDir,
		bases:    newBaseStore(cfg.RootfsCacheDir),
		registry: hostRegistry{dir: hostRegistryDir},
		cgroups:  detectCgroups(),
		cpus:     onlineCPUs(),
		logf:     cfg.Logf,
		lock:     lock,
	}
	if b.cacheDir == "" {
		b.cacheDir = DefaultCacheDir()
	}
	if b.bases.dir == "" {
		b.bases.dir = DefaultRootfsCacheDir
	}
	if b.logf == nil {
		b.logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := b.setUp(ctx, cfg); err != nil {
		cleanupErr := cleanupStateDir(ctx, stateDir, b.logf)
		_ = lock.Close()
		return nil, errors.Join(fmt.Errorf("lxc backend: %w", err), cleanupErr)
	}
	if err := b.checkUnprivilegedPaths(); err != nil {
		b.logf("lxc backend: warning: unprivileged containers will fail: %v", err)
	}
	return b, nil
}

// setUp does New's work on the host once the state directory is locked.
func (b *Backend) setUp(ctx context.Context, cfg Config) error {
	if err := cleanupStateDir(ctx, b.stateDir, b.logf); err != nil {
		return fmt.Errorf("removing what a previous run left: %w", err)
	}
	sum := sha256.Sum256([]byte(b.stateDir))
	tag := hex.EncodeToString(sum[:])
	b.net = hostNetwork{Bridge: cfg.Bridge, NftTable: "pvesim_" + tag[:12], Subnet: cfg.Subnet, Egress: cfg.Egress}
	if b.net.Bridge == "" {
		b.net.Bridge = "pvesim" + tag[:8]
	}
	if !bridgeName.MatchString(b.net.Bridge) {
		return fmt.Errorf("bridge name %q: use up to 15 letters, digits, '.', '-' or '_'", b.net.Bridge)
	}
	host, err := hostPrefixes(ctx)
	if err != nil {
		return err
	}
	if b.net.Subnet.IsValid() {
		if !b.net.Subnet.Addr().Is4() || b.net.Subnet.Bits() > 30 {
			return fmt.Errorf("subnet %s: need an IPv4 subnet of at most /30", b.net.Subnet)
		}
		b.net.Subnet = b.net.Subnet.Masked()
		if conflict := subnetConflict(b.net.Subnet, host); conflict != "" {
			return fmt.Errorf("subnet %s overlaps %s, which the host already uses", b.net.Subnet, conflict)
		}
	} else if b.net.Subnet, err = pickSubnet(sum[0], host); err != nil {
		return err
	}
	if linkExists(ctx, b.net.Bridge) {
		return fmt.Errorf("bridge %s: an interface of that name already exists; choose another bridge name", b.net.Bridge)
	}
	if err := writeRunRecord(b.stateDir, b.net); err != nil {
		return err
	}
	if err := b.registry.locked(func() error { return b.registry.register(b.stateDir) }); err != nil {
		return err
	}
	if err := b.net.up(ctx); err != nil {
		return err
	}
	if b.net.Egress {
		if err := b.registry.enableForwarding(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(b.lxcPath, 0o755); err != nil { //nolint:gosec // unprivileged containers' root must be able to enter it
		return err
	}
	b.logf("lxc backend: bridge %s with %s (gateway %s), egress %v, LXC path %s", b.net.Bridge, b.net.Subnet, b.net.gateway(), b.net.Egress, b.lxcPath)
	return nil
}

// Name is the backend's --backend value.
func (b *Backend) Name() string { return "lxc" }

// LXCPath is the LXC path of the containers: `lxc-attach -P <LXCPath> -n
// <vmid>` reaches one.
func (b *Backend) LXCPath() string { return b.lxcPath }

// Bridge is the name of the backend's bridge.
func (b *Backend) Bridge() string { return b.net.Bridge }

// Subnet is the bridge's subnet.
func (b *Backend) Subnet() netip.Prefix { return b.net.Subnet }

// Gateway is the bridge's own address: the containers' gateway and where
// the tests serve packages to them (lxctest.LocalRepo).
func (b *Backend) Gateway() netip.Addr { return b.net.gateway() }

// AddGuestFiles makes the backend write files into every container it
// creates or clones from now on, as a site's customised template would
// carry them. Tests use it to point package managers at a local
// repository (lxctest.LocalRepo.GuestFiles) before anything in the
// container runs. Keys are absolute paths; the content replaces what the
// image has there.
func (b *Backend) AddGuestFiles(files map[string]string) error {
	for path := range files {
		if !filepath.IsAbs(path) || filepath.Clean(path) != path || path == "/" {
			return fmt.Errorf("guest file %q: need an absolute, clean path", path)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.guestFiles == nil {
		b.guestFiles = map[string]string{}
	}
	maps.Copy(b.guestFiles, files)
	return nil
}

// Close stops and removes every container of the backend, its bridge and
// nftables table, and restores the host settings simulators changed when
// it is the last one running. It is safe to call more than once.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	err := cleanupStateDir(ctx, b.stateDir, b.logf)
	_ = os.Remove(stateLockFile(b.stateDir))
	return errors.Join(err, b.lock.Close())
}

// CleanupStale removes what a simulator that crashed with this state
// directory left on the host: its containers (killed), bridge and
// nftables table, and host settings no other simulator still needs. It
// refuses a state directory a running simulator holds. New does this by
// itself.
func CleanupStale(stateDir string) error {
	stateDir, err := filepath.Abs(stateDir)
	if err != nil {
		return err
	}
	lock, err := tryLockFile(stateLockFile(stateDir))
	if errors.Is(err, errLockBusy) {
		return fmt.Errorf("state directory %s is in use by a running simulator", stateDir)
	}
	if err != nil {
		return err
	}
	defer func() { _ = lock.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	return cleanupStateDir(ctx, stateDir, func(string, ...any) {})
}

// stateLockFile is the lock a live simulator holds on its state directory.
func stateLockFile(stateDir string) string {
	return filepath.Join(stateDir, "lxcbackend.lock")
}

// runRecordFile records the host network a backend set up.
func runRecordFile(stateDir string) string {
	return filepath.Join(stateDir, "lxcbackend.json")
}

// writeRunRecord records the network before it is created.
func writeRunRecord(stateDir string, n hostNetwork) error {
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return writeFileAtomic(runRecordFile(stateDir), data, 0o644)
}

// cleanupStateDir removes every container under the state directory, the
// recorded bridge and table, and drops the simulator from the host
// registry. Call it holding the state directory's lock.
func cleanupStateDir(ctx context.Context, stateDir string, logf func(string, ...any)) error {
	var errs []error
	lxcPath := filepath.Join(stateDir, "lxc")
	entries, err := os.ReadDir(lxcPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, entry := range entries {
		if _, err := strconv.Atoi(entry.Name()); err != nil || !entry.IsDir() {
			continue
		}
		logf("lxc backend: removing CT %s", entry.Name())
		if err := destroyContainer(ctx, lxcPath, entry.Name()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(lxcPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	data, err := os.ReadFile(runRecordFile(stateDir))
	switch {
	case err == nil:
		var n hostNetwork
		if err := json.Unmarshal(data, &n); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", runRecordFile(stateDir), err))
		} else if err := n.down(ctx); err != nil {
			errs = append(errs, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		errs = append(errs, err)
	}
	if err := (hostRegistry{dir: hostRegistryDir}).restoreIfLast(stateDir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := os.Remove(runRecordFile(stateDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkUnprivilegedPaths says why an unprivileged container could not
// mount its overlay: its root (uid 100000 on the host) must be able to
// enter every directory above the LXC path and the rootfs cache.
func (b *Backend) checkUnprivilegedPaths() error {
	for _, dir := range []string{b.lxcPath, b.bases.dir} {
		for d := dir; ; d = filepath.Dir(d) {
			info, err := os.Stat(d)
			if err == nil && info.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("unprivileged containers run their root as uid %d, which cannot enter %s (mode %04o): make it searchable (chmod o+x) or put the state directory elsewhere", unprivilegedIDBase, d, info.Mode().Perm())
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return nil
}

package lxcbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// hostRegistryDir is shared by every lxc-backed simulator on the machine. It
// lists the live ones and keeps the original value of each host setting the
// first of them changed (ip_forward, /etc/subuid), so that the last one to
// stop, or the next start after a crash, can restore it, and no simulator
// pulls a setting from under another.
const hostRegistryDir = "/var/lib/terraform-provider-pve/lxcbackend"

// hostRegistry is the shared record kept in a directory (hostRegistryDir).
type hostRegistry struct {
	dir string
}

// registryLockTimeout bounds waiting for another simulator's registry update.
const registryLockTimeout = 30 * time.Second

// locked runs fn while holding the registry's lock.
func (r hostRegistry) locked(fn func() error) error {
	// The registry's parent may also hold simulator state directories
	// (the demo's), which unprivileged containers' root must be able to
	// enter: searchable by others, not listable.
	if err := os.MkdirAll(filepath.Dir(r.dir), 0o711); err != nil { //nolint:gosec // see above
		return fmt.Errorf("host registry: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(r.dir, "instances"), 0o750); err != nil {
		return fmt.Errorf("host registry: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(r.dir, "originals"), 0o750); err != nil {
		return fmt.Errorf("host registry: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryLockTimeout)
	defer cancel()
	release, err := lockFile(ctx, filepath.Join(r.dir, ".lock"))
	if err != nil {
		return fmt.Errorf("host registry: %w", err)
	}
	defer release()
	return fn()
}

// instanceFile is where a simulator with the given state directory is listed.
func (r hostRegistry) instanceFile(stateDir string) string {
	sum := sha256.Sum256([]byte(stateDir))
	return filepath.Join(r.dir, "instances", hex.EncodeToString(sum[:8]))
}

// register lists a simulator; call with the registry locked.
func (r hostRegistry) register(stateDir string) error {
	return os.WriteFile(r.instanceFile(stateDir), []byte(stateDir+"\n"), 0o600)
}

// unregister removes a simulator from the list; call with the registry locked.
func (r hostRegistry) unregister(stateDir string) error {
	err := os.Remove(r.instanceFile(stateDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// othersAlive reports whether a simulator other than self is running. A
// simulator is alive while it holds its state directory's lock; entries of
// dead ones are dropped. Call with the registry locked.
func (r hostRegistry) othersAlive(self string) (bool, error) {
	entries, err := os.ReadDir(filepath.Join(r.dir, "instances"))
	if err != nil {
		return false, fmt.Errorf("host registry: %w", err)
	}
	alive := false
	for _, entry := range entries {
		file := filepath.Join(r.dir, "instances", entry.Name())
		data, err := os.ReadFile(file)
		if err != nil {
			return false, fmt.Errorf("host registry: %w", err)
		}
		stateDir := strings.TrimSpace(string(data))
		if stateDir == self {
			continue
		}
		if lockHeld(stateLockFile(stateDir)) {
			alive = true
			continue
		}
		if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("host registry: %w", err)
		}
	}
	return alive, nil
}

// rememberOriginal keeps a host setting's value from before any simulator
// changed it; a value already remembered wins. Call with the registry locked.
func (r hostRegistry) rememberOriginal(name, value string) error {
	file := filepath.Join(r.dir, "originals", name)
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	return os.WriteFile(file, []byte(value), 0o600) //nolint:gosec // name is one of the backend's own setting names
}

// takeOriginal returns and forgets a remembered value. Call with the
// registry locked.
func (r hostRegistry) takeOriginal(name string) (string, bool, error) {
	file := filepath.Join(r.dir, "originals", name)
	data, err := os.ReadFile(file) //nolint:gosec // name is one of the backend's own setting names
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(data), true, os.Remove(file)
}

// lockHeld reports whether some process holds the flock on path, without
// creating the file.
func lockHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	err = flockExclusive(f)
	if err == nil {
		_ = funlock(f)
		return false
	}
	return errors.Is(err, errLockBusy)
}

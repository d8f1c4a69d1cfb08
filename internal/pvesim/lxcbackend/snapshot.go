package lxcbackend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// Snapshots copy the container's writable layer: a container's whole own
// filesystem is its overlay's upper directory (the base below it never
// changes), so <container dir>/snapshots/<name>/delta, a copy of it, is a
// complete snapshot, and a rollback puts a copy of that back. Snapshots
// live in the container directory, so destroying the container removes
// them.
//
// Why a copy, measured on a running Debian 12 container of this backend
// (2 cores, ext4 state directory):
//
//   - copying the upper directory with cp -a --reflink=auto: 9 ms for a
//     freshly booted container (8 MB, 28 entries); 0.8–1.9 s with a cold
//     cache after provisioning-like changes (292 MB, 3,596 entries), since
//     ext4 has no reflinks; freezing and thawing the container around the
//     copy costs 2 ms each;
//   - the same copy as reflinks (XFS with reflink=1 on a loop device):
//     about 150 ms for the 292 MB layer, and cp --reflink=auto uses them
//     wherever the state directory's filesystem offers them;
//   - stacking overlay layers (the upper directory becomes a read-only
//     layer, a new empty one goes on top) costs nothing to take, but an
//     overlay's layers cannot change while it is mounted: every snapshot of
//     a running container would restart it (0.1 s forced stop plus 0.6 s
//     until systemd is up, and every process in it killed), where Proxmox
//     VE snapshots a running container without stopping it. Deleting a
//     snapshot that others stack on would also mean merging layers, a copy
//     again.
//
// So a snapshot is a copy of the upper directory taken while the container
// is frozen (Proxmox VE freezes it as well), with reflinks where the
// filesystem has them.
const (
	containerSnapshotsDir = "snapshots"
	snapshotPartialPrefix = ".partial-" // a snapshot being copied
	rollbackStagedDir     = ".delta.rollback"
	rollbackOldDir        = ".delta.old"
)

// snapshotNameRE is Proxmox VE's pve-configid, which snapshot names follow;
// it also keeps names from reaching outside the snapshots directory.
var snapshotNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]+$`)

func checkSnapshotName(name string) error {
	if !snapshotNameRE.MatchString(name) {
		return fmt.Errorf("invalid snapshot name %q: use a letter followed by letters, digits, '-' or '_'", name)
	}
	return nil
}

// snapshotDir is where snapshot name of container vmid is kept.
func (b *Backend) snapshotDir(vmid int, name string) string {
	return filepath.Join(b.containerDir(vmid), containerSnapshotsDir, name)
}

// Snapshot copies the container's writable layer under name. A running
// container is frozen during the copy and thawed afterwards.
func (b *Backend) Snapshot(ctx context.Context, vmid int, name string) error {
	if err := checkSnapshotName(name); err != nil {
		return err
	}
	if _, err := b.loadState(vmid); err != nil {
		return err
	}
	dir := b.snapshotDir(vmid, name)
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("CT %d already has a snapshot %q", vmid, name)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	partial := filepath.Join(parent, snapshotPartialPrefix+name)
	if err := os.RemoveAll(partial); err != nil {
		return err
	}
	if err := os.Mkdir(partial, 0o700); err != nil {
		return err
	}
	if err := b.copyFrozen(ctx, vmid, filepath.Join(partial, containerUpperDir)); err != nil {
		_ = os.RemoveAll(partial)
		return fmt.Errorf("snapshot %q of CT %d: %w", name, vmid, err)
	}
	return os.Rename(partial, dir)
}

// copyFrozen copies the writable layer to dst, freezing a running container
// for the copy.
func (b *Backend) copyFrozen(ctx context.Context, vmid int, dst string) error {
	name := strconv.Itoa(vmid)
	if b.running(ctx, vmid) {
		if _, err := runCommand(ctx, "lxc-freeze", "-P", b.lxcPath, "-n", name); err != nil {
			return fmt.Errorf("freezing the container: %w", err)
		}
		defer func() {
			if _, err := runCommand(context.WithoutCancel(ctx), "lxc-unfreeze", "-P", b.lxcPath, "-n", name); err != nil {
				b.logf("lxc backend: CT %d stays frozen: %v", vmid, err)
			}
		}()
	}
	_, err := runCommand(ctx, "cp", "-a", "--reflink=auto", filepath.Join(b.containerDir(vmid), containerUpperDir), dst)
	return err
}

// Rollback replaces the stopped container's writable layer with a copy of
// snapshot name, and empties overlayfs's work directory, which must not
// refer to the old layer.
func (b *Backend) Rollback(ctx context.Context, vmid int, name string) error {
	if err := checkSnapshotName(name); err != nil {
		return err
	}
	st, err := b.loadState(vmid)
	if err != nil {
		return err
	}
	if st.Template {
		return errTemplateRollback(vmid)
	}
	src := filepath.Join(b.snapshotDir(vmid, name), containerUpperDir)
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("CT %d has no snapshot %q", vmid, name)
	}
	if b.running(ctx, vmid) {
		return fmt.Errorf("CT %d is running; it must be stopped to roll back", vmid)
	}
	dir := b.containerDir(vmid)
	staged := filepath.Join(dir, rollbackStagedDir)
	old := filepath.Join(dir, rollbackOldDir)
	for _, leftover := range []string{staged, old} {
		if err := os.RemoveAll(leftover); err != nil {
			return err
		}
	}
	if _, err := runCommand(ctx, "cp", "-a", "--reflink=auto", src, staged); err != nil {
		_ = os.RemoveAll(staged)
		return fmt.Errorf("rollback of CT %d to %q: %w", vmid, name, err)
	}
	upper := filepath.Join(dir, containerUpperDir)
	if err := os.Rename(upper, old); err != nil {
		return err
	}
	if err := os.Rename(staged, upper); err != nil {
		_ = os.Rename(old, upper)
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	return resetWorkDir(filepath.Join(dir, containerWorkDir), rootUID(st.Unprivileged))
}

// resetWorkDir empties overlayfs's work directory, keeping its owner.
func resetWorkDir(work string, uid int) error {
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.Mkdir(work, 0o755); err != nil { //nolint:gosec // the container's root must enter it, as makeLayers makes it
		return err
	}
	return os.Chown(work, uid, uid)
}

// DeleteSnapshot removes snapshot name (and a partial copy of it); an
// unknown snapshot or container is not an error.
func (b *Backend) DeleteSnapshot(_ context.Context, vmid int, name string) error {
	if err := checkSnapshotName(name); err != nil {
		return err
	}
	dir := b.snapshotDir(vmid, name)
	if err := os.RemoveAll(filepath.Join(filepath.Dir(dir), snapshotPartialPrefix+name)); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

package lxcbackend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Templates and their clones. A template is a stopped container whose
// writable layer never changes again: Template marks it, and from then on
// Start, Rollback and the guest-file writes of Update refuse or skip it. A
// linked clone stacks an empty writable layer of its own on the template's
// layers (the template's writable layer, its own layers, the base), the
// way Proxmox VE's LVM-thin or ZFS storage makes a linked clone a
// copy-on-write child of the template's base volume: creating one copies
// nothing, whatever the template holds. Destroy refuses a template that
// linked clones still stack on. Everything is recorded in the containers'
// state files, so it survives a restart of the simulator.

// Template turns a stopped container into a template.
func (b *Backend) Template(ctx context.Context, vmid int) error {
	st, err := b.loadState(vmid)
	if err != nil {
		return err
	}
	if b.running(ctx, vmid) {
		return errors.New("you can't convert a CT to template if the CT is running")
	}
	st.Template = true
	return b.saveState(st)
}

// cloneLayers makes the clone's layers in dir: for a linked clone an empty
// writable layer over the template's layers; for a full clone a copy of
// the source's writable layer, or of its whole merged tree when it has
// layers of its own.
func (b *Backend) cloneLayers(ctx context.Context, src, dst *containerState, dir, base string, linked bool, log func(string)) error {
	srcUpper := filepath.Join(b.containerDir(src.Spec.VMID), containerUpperDir)
	switch {
	case linked:
		log(fmt.Sprintf("create linked clone of CT %d: a new writable layer over its %d read-only layers", src.Spec.VMID, len(src.Layers)+2))
		dst.Layers = append([]string{srcUpper}, src.Layers...)
		return b.makeLayers(ctx, dir, base, dst.Unprivileged, "")
	case len(src.Layers) == 0:
		log(fmt.Sprintf("create full clone: copying the root filesystem of CT %d", src.Spec.VMID))
		if err := b.makeLayers(ctx, dir, base, dst.Unprivileged, srcUpper); err != nil {
			return err
		}
	default:
		log(fmt.Sprintf("create full clone: copying the merged root filesystem of CT %d (a linked clone)", src.Spec.VMID))
		if err := b.makeLayers(ctx, dir, base, dst.Unprivileged, ""); err != nil {
			return err
		}
		if err := b.copyMerged(ctx, src, filepath.Join(dir, containerUpperDir)); err != nil {
			return err
		}
	}
	if src.Unprivileged != dst.Unprivileged {
		return shiftOwnership(filepath.Join(dir, containerUpperDir), dst.Unprivileged)
	}
	return nil
}

// copyMerged copies what a stopped container sees, all its layers merged,
// into dst: a read-only overlay of its layers is mounted for the copy.
func (b *Backend) copyMerged(ctx context.Context, src *containerState, dst string) error {
	mnt, err := os.MkdirTemp(b.containerDir(src.Spec.VMID), ".merged-")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(mnt) }()
	layers := append([]string{filepath.Join(b.containerDir(src.Spec.VMID), containerUpperDir)}, b.lowers(src)...)
	opts := "ro,lowerdir=" + strings.Join(layers, ":")
	if src.Unprivileged {
		opts += ",userxattr"
	}
	if _, err := runCommand(ctx, "mount", "-t", "overlay", "overlay", "-o", opts, mnt); err != nil {
		return err
	}
	_, copyErr := runCommand(ctx, "cp", "-a", "--reflink=auto", mnt+"/.", dst)
	_, umountErr := runCommand(context.WithoutCancel(ctx), "umount", mnt)
	return errors.Join(copyErr, umountErr)
}

// postClone empties a clone's /etc/machine-id, as Proxmox VE's
// post_clone_hook does for systemd containers (unless it says
// "uninitialized"), so the clone's first boot makes a machine id of its
// own.
func (b *Backend) postClone(st *containerState) error {
	guest, err := openStoppedGuest(filepath.Join(b.containerDir(st.Spec.VMID), containerUpperDir), b.lowers(st), rootUID(st.Unprivileged))
	if err != nil {
		return err
	}
	defer func() { _ = guest.Close() }()
	systemd := guest.exists("lib/systemd/systemd") || guest.exists("usr/lib/systemd/systemd")
	if !systemd || !guest.exists("etc/machine-id") {
		return nil
	}
	if id, err := guest.readFile("etc/machine-id"); err == nil && strings.TrimSpace(string(id)) == "uninitialized" {
		return nil
	}
	return guest.writeFile("etc/machine-id", []byte("\n"), 0o444)
}

// linkedClones lists the containers whose layers include vmid's writable
// layer.
func (b *Backend) linkedClones(vmid int) ([]int, error) {
	upper := filepath.Join(b.containerDir(vmid), containerUpperDir)
	entries, err := os.ReadDir(b.lxcPath)
	if err != nil {
		return nil, err
	}
	var clones []int
	for _, entry := range entries {
		other, err := strconv.Atoi(entry.Name())
		if err != nil || other == vmid {
			continue
		}
		st, err := b.loadState(other)
		if errors.Is(err, fs.ErrNotExist) || (err != nil && strings.Contains(err.Error(), "does not exist")) {
			continue // a container being created or removed
		}
		if err != nil {
			return nil, err
		}
		if slices.Contains(st.Layers, upper) {
			clones = append(clones, other)
		}
	}
	return clones, nil
}

// errTemplateRollback refuses to roll a template back.
func errTemplateRollback(vmid int) error {
	return fmt.Errorf("CT %d is a template: a rollback would change the layer its linked clones stack on", vmid)
}

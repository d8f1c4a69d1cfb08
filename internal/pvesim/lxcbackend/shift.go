package lxcbackend

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Unprivileged containers map their uids and gids 0..65535 to 100000..165535
// on the host, as Proxmox VE does; their files are owned by the shifted ids.
const (
	unprivilegedIDBase = 100000
	idMapSize          = 65536
)

// rootUID is the host uid (and gid) of a container's root user.
func rootUID(unprivileged bool) int {
	if unprivileged {
		return unprivilegedIDBase
	}
	return 0
}

// shiftOwnership moves the owners of every file under root between the host
// range (0..65535) and the unprivileged range. Only ids inside the source
// range move, so an interrupted shift can simply be repeated. chown clears
// setuid and setgid bits, so they are put back afterwards; file
// capabilities are dropped (root inside a container does not need them).
func shiftOwnership(root string, toUnprivileged bool) error {
	from, delta := 0, unprivilegedIDBase
	if !toUnprivileged {
		from, delta = unprivilegedIDBase, -unprivilegedIDBase
	}
	shift := func(id int) (int, bool) {
		if id >= from && id < from+idMapSize {
			return id + delta, true
		}
		return id, false
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	// Walking and changing through the root keeps every operation inside
	// the tree, whatever symlinks it holds.
	return fs.WalkDir(r.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		owner, group, ok := fileOwner(info)
		if !ok {
			return fmt.Errorf("%s: no ownership information", filepath.Join(root, path))
		}
		uid, uidMoved := shift(owner)
		gid, gidMoved := shift(group)
		if !uidMoved && !gidMoved {
			return nil
		}
		if err := r.Lchown(path, uid, gid); err != nil {
			return err
		}
		if info.Mode()&os.ModeSymlink == 0 && info.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
			return r.Chmod(path, info.Mode())
		}
		return nil
	})
}

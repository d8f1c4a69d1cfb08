package lxcbackend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// guestFS writes files into a container from the host, confined to the
// container's root: symlinks a container planted cannot send a write to a
// host path. For a stopped container writes go to its overlay's writable
// layer (the read-only layers below it, a linked clone's template layers
// and the base, are consulted for what exists); for a running one to its
// live root, /proc/<init>/root.
type guestFS struct {
	root   *os.Root
	lowers []*os.Root // top first; none when root is the container's merged view
	uid    int        // host uid and gid of the container's root user
}

// openStoppedGuest opens a stopped container's writable layer over its
// read-only layers (top first, the base last).
func openStoppedGuest(upper string, lowers []string, uid int) (*guestFS, error) {
	r, err := os.OpenRoot(upper)
	if err != nil {
		return nil, err
	}
	g := &guestFS{root: r, uid: uid}
	for _, lower := range lowers {
		l, err := os.OpenRoot(lower)
		if err != nil {
			_ = g.Close()
			return nil, err
		}
		g.lowers = append(g.lowers, l)
	}
	return g, nil
}

// openRunningGuest opens a running container's root through its init.
func openRunningGuest(initPID, uid int) (*guestFS, error) {
	r, err := os.OpenRoot(fmt.Sprintf("/proc/%d/root", initPID))
	if err != nil {
		return nil, err
	}
	return &guestFS{root: r, uid: uid}, nil
}

func (g *guestFS) Close() error {
	err := g.root.Close()
	for _, l := range g.lowers {
		err = errors.Join(err, l.Close())
	}
	return err
}

// lowerLstat looks name up in the read-only layers, top first, as overlayfs
// does: a whiteout in a layer hides what the layers below hold.
func (g *guestFS) lowerLstat(name string) (fs.FileInfo, *os.Root, error) {
	for _, l := range g.lowers {
		info, err := l.Lstat(name)
		switch {
		case err == nil && isWhiteout(info):
			return nil, nil, fs.ErrNotExist
		case err == nil:
			return info, l, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, nil, err
		}
	}
	return nil, nil, fs.ErrNotExist
}

// isWhiteout reports overlayfs's marker for a file deleted from the base.
func isWhiteout(info fs.FileInfo) bool {
	return isZeroDevice(info)
}

// exists reports whether the container has a file at name, looking it up
// as the container sees it: the writable layer first (where a whiteout
// means deleted), then the base.
func (g *guestFS) exists(name string) bool {
	info, err := g.root.Lstat(name)
	if err == nil {
		return !isWhiteout(info)
	}
	if len(g.lowers) == 0 || !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, _, err = g.lowerLstat(name)
	return err == nil
}

// readFile reads a file as the container sees it.
func (g *guestFS) readFile(name string) ([]byte, error) {
	data, err := g.root.ReadFile(name)
	if err == nil || len(g.lowers) == 0 || !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	_, layer, err := g.lowerLstat(name)
	if err != nil {
		return nil, err
	}
	return layer.ReadFile(name)
}

// mkdirAll creates the directories of name that the writable layer lacks,
// copying mode and owner from the base where it has them.
func (g *guestFS) mkdirAll(dir string) error {
	dir = path.Clean(dir)
	if dir == "." || dir == "/" {
		return nil
	}
	if err := g.mkdirAll(path.Dir(dir)); err != nil {
		return err
	}
	if info, err := g.root.Lstat(dir); err == nil {
		if info.IsDir() {
			return nil
		}
		if !isWhiteout(info) {
			return fmt.Errorf("%s is not a directory in the container", dir)
		}
		if err := g.root.Remove(dir); err != nil {
			return err
		}
	}
	mode, uid, gid := fs.FileMode(0o755), g.uid, g.uid
	if len(g.lowers) > 0 {
		if info, _, err := g.lowerLstat(dir); err == nil && info.IsDir() {
			mode = info.Mode().Perm()
			if u, g, ok := fileOwner(info); ok {
				uid, gid = u, g
			}
		}
	}
	if err := g.root.Mkdir(dir, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := g.root.Chmod(dir, mode); err != nil {
		return err
	}
	return g.root.Lchown(dir, uid, gid)
}

// writeFile replaces a file in the container with a regular file owned by
// the container's root. Whatever was there (a symlink, say) is removed
// first, so the write lands at name itself.
func (g *guestFS) writeFile(name string, data []byte, mode fs.FileMode) error {
	name = strings.TrimPrefix(path.Clean(name), "/")
	if err := g.mkdirAll(path.Dir(name)); err != nil {
		return fmt.Errorf("writing /%s in the container: %w", name, err)
	}
	if info, err := g.root.Lstat(name); err == nil && !info.Mode().IsRegular() {
		if err := g.root.Remove(name); err != nil {
			return fmt.Errorf("writing /%s in the container: %w", name, err)
		}
	}
	if err := g.root.WriteFile(name, data, mode); err != nil {
		return fmt.Errorf("writing /%s in the container: %w", name, err)
	}
	if err := g.root.Chmod(name, mode); err != nil {
		return fmt.Errorf("writing /%s in the container: %w", name, err)
	}
	if err := g.root.Lchown(name, g.uid, g.uid); err != nil {
		return fmt.Errorf("writing /%s in the container: %w", name, err)
	}
	return nil
}

// symlink makes name a symlink to target, replacing what was there.
func (g *guestFS) symlink(target, name string) error {
	name = strings.TrimPrefix(path.Clean(name), "/")
	if err := g.mkdirAll(path.Dir(name)); err != nil {
		return fmt.Errorf("linking /%s in the container: %w", name, err)
	}
	if _, err := g.root.Lstat(name); err == nil {
		if err := g.root.Remove(name); err != nil {
			return fmt.Errorf("linking /%s in the container: %w", name, err)
		}
	}
	if err := g.root.Symlink(target, name); err != nil {
		return fmt.Errorf("linking /%s in the container: %w", name, err)
	}
	if err := g.root.Lchown(name, g.uid, g.uid); err != nil {
		return fmt.Errorf("linking /%s in the container: %w", name, err)
	}
	return nil
}

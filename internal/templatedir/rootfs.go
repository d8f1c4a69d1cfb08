package templatedir

import (
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
)

// dirCachedFS is the fs.FS Discover reads a template through: an os.Root
// (so no read can leave the discovery root, even under races) that keeps
// one os.Root open per directory it has used. Opening a file then costs one
// openat of its base name instead of a walk from the top, which is what
// keeps discovery of a thousand templates inside its time budget. It is not
// safe for concurrent use: each template gets its own.
type dirCachedFS struct {
	root *os.Root
	dirs map[string]*os.Root
}

func newDirCachedFS(root *os.Root) *dirCachedFS {
	return &dirCachedFS{root: root, dirs: map[string]*os.Root{}}
}

// close releases the directory handles (never the shared root).
func (c *dirCachedFS) close() {
	for _, r := range c.dirs {
		_ = r.Close() // a directory handle: nothing to flush
	}
}

// dirRoot returns an os.Root for the directory dir (a valid fs path).
func (c *dirCachedFS) dirRoot(dir string) (*os.Root, error) {
	if dir == "." {
		return c.root, nil
	}
	if r, ok := c.dirs[dir]; ok {
		return r, nil
	}
	parent, err := c.dirRoot(path.Dir(dir))
	if err != nil {
		return nil, err
	}
	r, err := parent.OpenRoot(path.Base(dir))
	if err != nil {
		return nil, err
	}
	c.dirs[dir] = r
	return r, nil
}

// split returns the root of name's directory and name's base name.
func (c *dirCachedFS) split(op, name string) (*os.Root, string, error) {
	if !fs.ValidPath(name) {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	r, err := c.dirRoot(path.Dir(name))
	return r, path.Base(name), err
}

// Open implements fs.FS.
func (c *dirCachedFS) Open(name string) (fs.File, error) {
	r, base, err := c.split("open", name)
	if err != nil {
		return nil, err
	}
	return r.OpenFile(base, openFlags, 0)
}

// openFlags open read-only and non-blocking: a regular file reads the same,
// the os package then skips switching the descriptor's blocking mode back
// and forth (four fcntl calls per file, a third of discovery's system
// calls), and a FIFO swapped in for a file cannot block the open.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// ReadDir implements fs.ReadDirFS (entries sorted by name).
func (c *dirCachedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	r, err := c.dirRoot(name)
	if err != nil {
		return nil, err
	}
	f, err := r.OpenFile(".", openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only directory handle
	entries, err := readDirEntries(r, f)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, err
}

// Stat implements fs.StatFS.
func (c *dirCachedFS) Stat(name string) (fs.FileInfo, error) {
	r, base, err := c.split("stat", name)
	if err != nil {
		return nil, err
	}
	return r.Stat(base)
}

// Lstat implements fs.ReadLinkFS.
func (c *dirCachedFS) Lstat(name string) (fs.FileInfo, error) {
	r, base, err := c.split("lstat", name)
	if err != nil {
		return nil, err
	}
	return r.Lstat(base)
}

// ReadLink implements fs.ReadLinkFS.
func (c *dirCachedFS) ReadLink(name string) (string, error) {
	r, base, err := c.split("readlink", name)
	if err != nil {
		return "", err
	}
	return r.Readlink(base)
}

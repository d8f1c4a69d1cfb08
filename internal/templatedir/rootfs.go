package templatedir

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
)

// templateFS is what Discover and LoadTemplate read one template through:
// an fs.FS confined to the discovery root, with a fast whole-file read.
type templateFS interface {
	fs.ReadDirFS
	fs.StatFS
	fs.ReadLinkFS
	fileLoader
	close()
}

// fileLoader reads a whole regular file in as few system calls as the
// platform allows, with its permission bits when withMode is set. It fails
// with errNotRegular for anything else and with a *fileTooLargeError over
// maxSize. Without withMode the caller vouches (from the directory entry)
// that name is a regular file, and a reader may skip the stat.
type fileLoader interface {
	loadFile(name string, maxSize int64, withMode bool) ([]byte, fs.FileMode, error)
}

var errNotRegular = errors.New("not a regular file")

type fileTooLargeError struct{ size int64 }

func (e *fileTooLargeError) Error() string { return "file too large" }

// newTemplateFS returns the reader for one template: the raw-descriptor
// reader where the platform has one (Linux), else the os.Root one.
func newTemplateFS(root *os.Root, top *rootDir) templateFS {
	if top != nil && !portableReaderOnly {
		return newFDFS(root, top)
	}
	return &rootFS{root: root, dirs: map[string]*os.Root{}}
}

// portableReaderOnly forces the os.Root reader (tests run both readers).
var portableReaderOnly = false

// openFlags open read-only and non-blocking: a regular file reads the same,
// the os package then skips switching the descriptor's blocking mode back
// and forth (four fcntl calls per file), and a FIFO swapped in for a file
// cannot block the open.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// rootFS is the portable reader: an os.Root (no read can leave the
// discovery root, even under races) keeping one os.Root open per directory
// it has used, so opening a file costs one openat of its base name instead
// of a walk from the top. Not safe for concurrent use: one per template.
type rootFS struct {
	root *os.Root
	dirs map[string]*os.Root
}

func (c *rootFS) close() {
	for _, r := range c.dirs {
		_ = r.Close() // a directory handle: nothing to flush
	}
}

// dirRoot returns an os.Root for the directory dir (a valid fs path).
func (c *rootFS) dirRoot(dir string) (*os.Root, error) {
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
func (c *rootFS) split(op, name string) (*os.Root, string, error) {
	if !fs.ValidPath(name) {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	r, err := c.dirRoot(path.Dir(name))
	return r, path.Base(name), err
}

// Open implements fs.FS.
func (c *rootFS) Open(name string) (fs.File, error) {
	r, base, err := c.split("open", name)
	if err != nil {
		return nil, err
	}
	return r.OpenFile(base, openFlags, 0)
}

// ReadDir implements fs.ReadDirFS (entries sorted by name).
func (c *rootFS) ReadDir(name string) ([]fs.DirEntry, error) {
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
	entries, err := f.ReadDir(-1)
	sortEntries(entries)
	return entries, err
}

func sortEntries(entries []fs.DirEntry) {
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}

// Stat implements fs.StatFS.
func (c *rootFS) Stat(name string) (fs.FileInfo, error) {
	r, base, err := c.split("stat", name)
	if err != nil {
		return nil, err
	}
	return r.Stat(base)
}

// Lstat implements fs.ReadLinkFS.
func (c *rootFS) Lstat(name string) (fs.FileInfo, error) {
	r, base, err := c.split("lstat", name)
	if err != nil {
		return nil, err
	}
	return r.Lstat(base)
}

// ReadLink implements fs.ReadLinkFS.
func (c *rootFS) ReadLink(name string) (string, error) {
	r, base, err := c.split("readlink", name)
	if err != nil {
		return "", err
	}
	return r.Readlink(base)
}

// loadFile implements fileLoader.
func (c *rootFS) loadFile(name string, maxSize int64, _ bool) ([]byte, fs.FileMode, error) {
	f, err := c.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = f.Close() }() // read-only: nothing to flush
	return loadOpenFile(f, maxSize)
}

// loadOpenFile reads an open file whole, checking it is regular and small
// enough first.
func loadOpenFile(f fs.File, maxSize int64) ([]byte, fs.FileMode, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, errNotRegular
	}
	if st.Size() > maxSize {
		return nil, 0, &fileTooLargeError{size: st.Size()}
	}
	data, err := readLimited(f, st.Size(), maxSize)
	return data, st.Mode().Perm(), err
}

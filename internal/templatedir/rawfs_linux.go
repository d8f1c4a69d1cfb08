//go:build linux

package templatedir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"syscall"
)

// On Linux a template is read with raw directory descriptors: each file
// costs exactly openat (relative to its directory, never following a
// symlink), fstat, read and close, and each directory one openat and its
// getdents64 calls. The os package adds a failed epoll registration per
// file and an lstat per directory entry for directories opened in an
// os.Root, which together made discovery of a thousand templates twice as
// slow. Because no component is ever opened with symlinks followed, nothing
// outside the discovery root can be read, even if the tree changes while
// it is being read. The rare operations (following a link, reading it) go
// through the os.Root reader.

// rootDir is the discovery root opened as a directory descriptor; template
// readers open their directories relative to it (concurrently: openat on a
// shared descriptor is safe).
type rootDir struct{ fd int }

func openRootDir(realRoot string) (*rootDir, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = syscall.Open(realRoot, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: realRoot, Err: err}
	}
	return &rootDir{fd: fd}, nil
}

func (d *rootDir) close() { _ = syscall.Close(d.fd) } // a directory: nothing to flush

// fdFS reads one template through raw descriptors (see above).
type fdFS struct {
	*rootFS
	top     int
	dirs    map[string]int
	scratch *[]byte // read buffer from scratchPool, reused across files
}

// scratchPool recycles read buffers across templates (and workers).
var scratchPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 64<<10)
	return &b
}}

func newFDFS(root *os.Root, top *rootDir) templateFS {
	return &fdFS{rootFS: &rootFS{root: root, dirs: map[string]*os.Root{}}, top: top.fd, dirs: map[string]int{}}
}

func (c *fdFS) close() {
	for _, fd := range c.dirs {
		_ = syscall.Close(fd) // a directory: nothing to flush
	}
	if c.scratch != nil {
		scratchPool.Put(c.scratch)
	}
	c.rootFS.close()
}

const (
	dirOpenFlags  = syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	fileOpenFlags = syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK
)

// dirFD returns this reader's descriptor for the directory dir.
func (c *fdFS) dirFD(dir string) (int, error) {
	if fd, ok := c.dirs[dir]; ok {
		return fd, nil
	}
	parent, base := c.top, "."
	if dir != "." {
		var err error
		if parent, err = c.dirFD(path.Dir(dir)); err != nil {
			return -1, err
		}
		base = path.Base(dir)
	}
	fd, err := openat(parent, base, dirOpenFlags)
	if err != nil {
		return -1, &fs.PathError{Op: "openat", Path: dir, Err: err}
	}
	c.dirs[dir] = fd
	return fd, nil
}

func openat(dirfd int, name string, flags int) (int, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = syscall.Openat(dirfd, name, flags, 0)
		return err
	})
	return fd, err
}

// retryEINTR repeats a system call interrupted by a signal (the Go runtime
// preempts goroutines with signals).
func retryEINTR(call func() error) error {
	for {
		if err := call(); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// loadFile implements fileLoader. Without withMode the file is read with
// openat, read and close only: the directory entry already said it is a
// regular file, and regular files never return a short read before their
// end, so the read that comes back short is the last.
func (c *fdFS) loadFile(name string, maxSize int64, withMode bool) ([]byte, fs.FileMode, error) {
	if !fs.ValidPath(name) {
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	dirfd, err := c.dirFD(path.Dir(name))
	if err != nil {
		return nil, 0, err
	}
	fd, err := openat(dirfd, path.Base(name), fileOpenFlags)
	if err != nil {
		return nil, 0, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	defer func() { _ = syscall.Close(fd) }() // read-only: nothing to flush
	if !withMode {
		data, err := c.readUnsized(fd, maxSize)
		if err != nil {
			return nil, 0, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		return data, 0, nil
	}
	var st syscall.Stat_t
	if err := retryEINTR(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		return nil, 0, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, 0, errNotRegular
	}
	if st.Size > maxSize {
		return nil, 0, &fileTooLargeError{size: st.Size}
	}
	data, err := readLimited(fdReader(fd), st.Size, maxSize)
	if err != nil {
		return nil, 0, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, fs.FileMode(st.Mode & 0o777), nil
}

// readUnsized reads fd to its end through the reusable scratch buffer and
// returns a copy of exactly the bytes read.
func (c *fdFS) readUnsized(fd int, maxSize int64) ([]byte, error) {
	if c.scratch == nil {
		c.scratch, _ = scratchPool.Get().(*[]byte)
	}
	buf := (*c.scratch)[:0]
	r := fdReader(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf)+1)...)[:len(buf)]
			*c.scratch = buf[:0]
		}
		want := cap(buf) - len(buf)
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > maxSize {
			var st syscall.Stat_t
			size := int64(len(buf))
			if syscall.Fstat(fd, &st) == nil && st.Size > size {
				size = st.Size
			}
			return nil, &fileTooLargeError{size: size}
		}
		switch {
		case errors.Is(err, io.EOF), err == nil && n < want:
			return bytes.Clone(buf), nil
		case err != nil:
			return nil, err
		}
	}
}

// fdReader reads a raw descriptor as an io.Reader.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	var n int
	err := retryEINTR(func() (err error) {
		n, err = syscall.Read(int(r), p)
		return err
	})
	switch {
	case err != nil:
		return 0, err
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// ReadDir implements fs.ReadDirFS with the entry types getdents64 reports.
func (c *fdFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	_, listedBefore := c.dirs[name]
	fd, err := c.dirFD(name)
	if err != nil {
		return nil, err
	}
	if listedBefore { // (or used as a parent: rewinding is harmless then)
		if _, err := syscall.Seek(fd, 0, io.SeekStart); err != nil {
			return nil, &fs.PathError{Op: "seek", Path: name, Err: err}
		}
	}
	buf := make([]byte, 8192)
	var entries []fs.DirEntry
	for {
		var n int
		err := retryEINTR(func() (err error) {
			n, err = syscall.Getdents(fd, buf)
			return err
		})
		if err != nil {
			return nil, &fs.PathError{Op: "getdents64", Path: name, Err: err}
		}
		if n <= 0 {
			sortEntries(entries)
			return entries, nil
		}
		// struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
		for rec := buf[:n]; len(rec) > 0; {
			if len(rec) < 19 {
				return nil, &fs.PathError{Op: "getdents64", Path: name, Err: syscall.EIO}
			}
			reclen := int(binary.NativeEndian.Uint16(rec[16:18]))
			if reclen < 19 || reclen > len(rec) {
				return nil, &fs.PathError{Op: "getdents64", Path: name, Err: syscall.EIO}
			}
			entryName := rec[19:reclen]
			if i := bytes.IndexByte(entryName, 0); i >= 0 {
				entryName = entryName[:i]
			}
			typ := rec[18]
			rec = rec[reclen:]
			if string(entryName) == "." || string(entryName) == ".." {
				continue
			}
			e := &dirent{fsys: c.rootFS, path: path.Join(name, string(entryName))}
			if mode, known := direntMode(typ); known {
				e.typ = mode
			} else { // the file system does not report types: ask
				info, err := c.Lstat(e.path)
				if err != nil {
					continue // removed since it was listed
				}
				e.typ, e.info = info.Mode().Type(), info
			}
			entries = append(entries, e)
		}
	}
}

func direntMode(t byte) (fs.FileMode, bool) {
	switch t {
	case syscall.DT_REG:
		return 0, true
	case syscall.DT_DIR:
		return fs.ModeDir, true
	case syscall.DT_LNK:
		return fs.ModeSymlink, true
	case syscall.DT_FIFO:
		return fs.ModeNamedPipe, true
	case syscall.DT_SOCK:
		return fs.ModeSocket, true
	case syscall.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice, true
	case syscall.DT_BLK:
		return fs.ModeDevice, true
	}
	return 0, false
}

// dirent is an fs.DirEntry from getdents64; Info is an lstat on demand.
type dirent struct {
	fsys *rootFS
	path string
	typ  fs.FileMode
	info fs.FileInfo
}

func (e *dirent) Name() string      { return path.Base(e.path) }
func (e *dirent) IsDir() bool       { return e.typ.IsDir() }
func (e *dirent) Type() fs.FileMode { return e.typ }
func (e *dirent) String() string    { return fs.FormatDirEntry(e) }

func (e *dirent) Info() (fs.FileInfo, error) {
	if e.info != nil {
		return e.info, nil
	}
	return e.fsys.Lstat(e.path)
}

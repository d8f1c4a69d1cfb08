package templatedir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Size limits. A template directory is configuration, not a place for
// artefacts: the whole spec travels through Terraform state and into the
// container in one stream.
const (
	// MaxFileSize is the largest single file a template may contain.
	MaxFileSize = 4 << 20
	// MaxTemplateSize is the largest total of all files read for one template.
	MaxTemplateSize = 32 << 20
)

// maxLinkHops bounds symlink chains (and loops), as the kernel does.
const maxLinkHops = 40

var (
	errOutside    = errors.New("resolves outside the allowed directory")
	errLinkLoop   = errors.New("too many levels of symbolic links")
	errBrokenLink = errors.New("broken symbolic link")
)

// resolveLinks returns name (a path inside fsys) with every symlink in it
// replaced by its target, walking one component at a time as the kernel
// does. It only ever looks inside fsys: a target that climbs above fsys's
// root, or an absolute target outside absRoot (the real OS path of fsys's
// root, "" when there is none), is errOutside and is not followed.
func resolveLinks(fsys fs.FS, absRoot, name string) (string, error) {
	pending := strings.Split(name, "/")
	resolved := "."
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if resolved == "." {
				return "", errOutside
			}
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, c)
		fi, err := fs.Lstat(fsys, next)
		if err != nil {
			if hops > 0 && errors.Is(err, fs.ErrNotExist) {
				return "", errBrokenLink
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", errLinkLoop
		}
		target, err := fs.ReadLink(fsys, next)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			rel, ok := underAbsRoot(absRoot, target)
			if !ok {
				return "", errOutside
			}
			target, resolved = rel, "."
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return resolved, nil
}

// underAbsRoot maps an absolute symlink target into fsys when it lies
// under absRoot.
func underAbsRoot(absRoot, target string) (string, bool) {
	if absRoot == "" {
		return "", false
	}
	target = path.Clean(target)
	root := path.Clean(absRoot)
	switch {
	case target == root:
		return ".", true
	case root == "/":
		return strings.TrimPrefix(target, "/"), true
	case strings.HasPrefix(target, root+"/"):
		return target[len(root)+1:], true
	}
	return "", false
}

// within reports whether p (a clean path inside fsys) is dir or below it.
func within(dir, p string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

// node is an entry of a template: where problems name it, where it really
// is (no symlinks left in path) and what it is.
type node struct {
	display string
	path    string
	mode    fs.FileMode // type bits of the (resolved) entry
}

func (n node) isDir() bool     { return n.mode.IsDir() }
func (n node) isRegular() bool { return n.mode.Type() == 0 }

// tree reads one template directory: every read stays inside dir, symlinks
// are resolved by resolveLinks and checked against dir, and the size
// limits are enforced as files are read.
type tree struct {
	fsys     fs.FS
	absRoot  string
	dir      string // resolved template directory inside fsys
	probs    *Problems
	root     node
	total    int64
	tooLarge bool
}

// list returns the entries of a directory node (sorted by name).
func (t *tree) list(dir node) []fs.DirEntry {
	entries, err := fs.ReadDir(t.fsys, dir.path)
	if err != nil {
		t.probs.errorf(dir.display, 0, "cannot read directory: %s", pathErrorText(err))
		return nil
	}
	return entries
}

// child resolves an entry of dir. ok is false when the entry is a symlink
// that cannot be followed (reported as an error).
func (t *tree) child(dir node, e fs.DirEntry) (node, bool) {
	n := node{
		display: dir.display + "/" + strings.ToValidUTF8(e.Name(), "\uFFFD"),
		path:    path.Join(dir.path, e.Name()),
		mode:    e.Type(),
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return n, true
	}
	resolved, err := resolveLinks(t.fsys, t.absRoot, n.path)
	if err == nil && !within(t.dir, resolved) {
		err = errOutside
	}
	if err != nil {
		target, _ := fs.ReadLink(t.fsys, n.path)
		switch {
		case errors.Is(err, errOutside):
			t.probs.errorf(n.display, 0, "symlink to %s resolves outside the template directory", excerpt(target))
		case errors.Is(err, errBrokenLink), errors.Is(err, fs.ErrNotExist):
			t.probs.errorf(n.display, 0, "broken symlink to %s", excerpt(target))
		default:
			t.probs.errorf(n.display, 0, "cannot follow symlink to %s: %s", excerpt(target), pathErrorText(err))
		}
		return n, false
	}
	fi, err := fs.Stat(t.fsys, resolved)
	if err != nil {
		t.probs.errorf(n.display, 0, "cannot read: %s", pathErrorText(err))
		return n, false
	}
	n.path, n.mode = resolved, fi.Mode().Type()
	return n, true
}

// read returns the content (and, withMode, the permission bits) of a
// regular file, enforcing MaxFileSize and MaxTemplateSize. ok is false when
// it reported a problem.
func (t *tree) read(n node, withMode bool) ([]byte, fs.FileMode, bool) {
	if t.tooLarge {
		return nil, 0, false
	}
	var data []byte
	var perm fs.FileMode
	var err error
	if l, ok := t.fsys.(fileLoader); ok {
		data, perm, err = l.loadFile(n.path, MaxFileSize, withMode)
	} else {
		data, perm, err = t.openAndLoad(n.path)
	}
	var tooLarge *fileTooLargeError
	switch {
	case errors.As(err, &tooLarge):
		t.probs.errorf(n.display, 0, "file is %d bytes, over the limit of %d bytes (4 MiB) for one file", tooLarge.size, MaxFileSize)
		return nil, 0, false
	case errors.Is(err, errNotRegular):
		t.probs.errorf(n.display, 0, "not a regular file")
		return nil, 0, false
	case err != nil:
		t.probs.errorf(n.display, 0, "cannot read: %s", pathErrorText(err))
		return nil, 0, false
	}
	t.total += int64(len(data))
	if t.total > MaxTemplateSize {
		t.tooLarge = true
		t.probs.errorf(t.root.display, 0, "template files total more than %d bytes (32 MiB), the limit for one template (reached at %s)", MaxTemplateSize, n.display)
		return nil, 0, false
	}
	return data, perm, true
}

func (t *tree) openAndLoad(name string) ([]byte, fs.FileMode, error) {
	f, err := t.fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = f.Close() }() // read-only: nothing to flush
	return loadOpenFile(f, MaxFileSize)
}

var errFileTooLarge = fmt.Errorf("file grew over the limit of %d bytes while being read", MaxFileSize)

// readLimited reads a regular file to the end into one buffer sized from
// its stat'ed size, failing when there is more than limit bytes. A read
// that returns the stat'ed size and stops short of the spare byte is the
// end of the file (regular files never return short reads before it), so
// the common case costs a single read call.
func readLimited(r io.Reader, sizeHint, limit int64) ([]byte, error) {
	buf := make([]byte, 0, sizeHint+1) // +1: see a grown file without reallocating
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		want := cap(buf) - len(buf)
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case int64(len(buf)) > limit:
			return nil, errFileTooLarge
		case errors.Is(err, io.EOF), err == nil && n > 0 && n < want && int64(len(buf)) == sizeHint:
			return buf, nil
		case err != nil:
			return nil, err
		}
	}
}

// pathErrorText drops the path from a *fs.PathError: problems already name
// the file, relative to the discovery root.
func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

package sshnode

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// nodeHome is root's home directory on a node, where the SSH session (and
// so pct) starts: relative node paths are resolved from it.
const nodeHome = "/root"

// nodeRelPath maps a path on the simulated node to a path relative to
// NodeDir. Cleaning it as an absolute path first means ".." can never
// climb out; os.Root refuses symlinks that would.
func nodeRelPath(p string) string {
	if !path.IsAbs(p) {
		p = path.Join(nodeHome, p)
	}
	rel := strings.TrimPrefix(path.Clean(p), "/")
	if rel == "" {
		return "."
	}
	return rel
}

// openNodeFile opens a node file for pct push. A directory opens (as it
// does for pct) but yields no content.
func (s *Server) openNodeFile(p string) (io.ReadCloser, error) {
	f, err := s.nodeRoot.Open(nodeRelPath(p))
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err == nil && info.IsDir() {
		_ = f.Close()
		return io.NopCloser(strings.NewReader("")), nil
	}
	return f, nil
}

// createNodeFile is pct's create_file on the node for pct pull: owner
// lookups, mode parsing, then create exclusively (mode from --perms or
// 0666 & ~022) or truncate an existing file (keeping its mode unless
// --perms is given), then chown. It returns pct's message on failure.
func (s *Server) createNodeFile(dest string, o fileCopyOptions) (*os.File, string) {
	uid, gid := -1, -1
	if o.hasUser {
		id, ok := nodeAccountID(o.user)
		if !ok {
			return nil, "failed to get uid for: " + o.user
		}
		uid = id
	}
	if o.hasGroup {
		id, ok := nodeAccountID(o.group)
		if !ok {
			return nil, "failed to get gid for: " + o.group
		}
		gid = id
	}
	var mode os.FileMode
	setMode := o.hasPerms
	if o.hasPerms {
		m, ok := parsePerms(o.perms)
		if !ok {
			return nil, fmt.Sprintf("invalid mode: '%s'", o.perms)
		}
		mode = m
	}

	rel := nodeRelPath(dest)
	f, err := s.nodeRoot.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0)
	if err == nil {
		if !setMode {
			mode, setMode = 0o644, true
		}
	} else {
		f, err = s.nodeRoot.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0)
		if err != nil {
			return nil, fmt.Sprintf("failed to create file: %s: %s", dest, strerror(err))
		}
	}
	if setMode {
		_ = f.Chmod(mode) // pct does not check this chmod either
	}
	if uid >= 0 || gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			_ = f.Close()
			return nil, "failed to change file owner: " + strerror(err)
		}
	}
	return f, ""
}

// nodeAccountID resolves a --user or --group value on the node: a decimal
// id, or "root", the only account a Proxmox VE node is sure to have.
func nodeAccountID(name string) (int, bool) {
	if name == "root" {
		return 0, true
	}
	if !isDigits(name) {
		return 0, false
	}
	id, err := strconv.Atoi(name)
	return id, err == nil
}

// strerror words an OS error as C's strerror (and Perl's $!) does:
// "No such file or directory".
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return capitalize(errno.Error())
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return capitalize(pathErr.Err.Error())
	}
	return capitalize(err.Error())
}

func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

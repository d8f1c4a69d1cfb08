//go:build !windows

package sshnode_test

import (
	"os"
	"syscall"
)

// fileOwner is the uid and gid of a file; ok is false where the platform
// does not record them. Kept apart so the tests compile for Windows.
func fileOwner(info os.FileInfo) (uid, gid int, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

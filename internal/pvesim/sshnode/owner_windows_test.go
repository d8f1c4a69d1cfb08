package sshnode_test

import "os"

// fileOwner is the uid and gid of a file; Windows has neither.
func fileOwner(os.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

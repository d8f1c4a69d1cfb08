//go:build !unix

package lxcbackend

import (
	"errors"
	"io/fs"
	"os"
)

// The backend only runs on Linux (Available says so); on other systems the
// package compiles, so the provider binary that carries the simulator
// builds everywhere.

var errNoFlock = errors.New("file locks need a Unix system")

func fileOwner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

func isZeroDevice(fs.FileInfo) bool { return false }

func flockExclusive(*os.File) error { return errNoFlock }

func funlock(*os.File) error { return errNoFlock }

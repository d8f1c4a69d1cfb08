//go:build !linux

package templatedir

import (
	"io/fs"
	"os"
)

// readDirEntries lists the directory open as f.
func readDirEntries(_ *os.Root, f *os.File) ([]fs.DirEntry, error) {
	return f.ReadDir(-1)
}

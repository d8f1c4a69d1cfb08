//go:build !linux

package templatedir

import "os"

// rootDir exists only where a raw-descriptor reader does (Linux).
type rootDir struct{}

func openRootDir(string) (*rootDir, error) { return nil, nil }

func (*rootDir) close() {}

func newFDFS(root *os.Root, _ *rootDir) templateFS {
	return &rootFS{root: root, dirs: map[string]*os.Root{}}
}

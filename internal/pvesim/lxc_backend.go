package pvesim

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
)

// newLXCBackend is the factory of --backend lxc: real LXC containers on a
// private bridge, under <state-dir>/lxc (or a fresh directory without a
// state dir).
func newLXCBackend(o backendOptions) (backend.Backend, error) {
	if err := lxcbackend.Available(); err != nil {
		return nil, err
	}
	dir := o.StateDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "pvesim-lxc-")
		if err != nil {
			return nil, fmt.Errorf("creating a directory for the containers: %w", err)
		}
		// LXC maps unprivileged containers to other uids, which must be able
		// to reach the container directories.
		if err := os.Chmod(tmp, 0o755); err != nil { //nolint:gosec // see above
			return nil, err
		}
		dir = tmp
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return lxcbackend.New(lxcbackend.Config{StateDir: abs, Egress: o.Egress, Logf: o.Logf})
}

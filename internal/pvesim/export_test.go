package pvesim

import (
	"context"
	"io"
	"os"
	"time"
)

// The seams below let the external tests (package pvesim_test), which
// otherwise drive the simulator only through its exported API like its
// users, reach the few internals a test must observe or break.

// RouteKeys lists the implemented routes as "METHOD /path/template", sorted.
func (s *Server) RouteKeys() []string { return sortedKeys(s.handlers) }

// HoldConfigLock takes a container's config lock as another PVE worker
// would, until unlock is called.
func (s *Server) HoldConfigLock(ctx context.Context, vmid int, timeout time.Duration) (unlock func(), err error) {
	return s.locks.lock(ctx, vmid, timeout)
}

// ParseCTConfig reads a container config file back as the simulator does
// after a restart.
func ParseCTConfig(text string) error {
	_, err := parseCTConfig(text)
	return err
}

// PersistNow writes the state file now, as after every change.
func (s *Server) PersistNow() { s.persist() }

// SetStateWriter replaces how the state file is written, e.g. with one
// that dies halfway like a killed process.
func (s *Server) SetStateWriter(write func(path string, data []byte, perm os.FileMode) error) {
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	s.writeState = write
}

// Kill stops serving the way a killed process does: no clean shutdown and
// no final state write. Close still releases the rest.
func (s *Server) Kill() {
	_ = s.http.Close()
	s.workers.Wait()
}

// ReadyLine is the JSON line simulate prints when it is ready.
type ReadyLine = readyLine

// RunCLIUntil is RunCLI that also returns when stop is closed, as on
// SIGTERM.
func RunCLIUntil(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	return runCLI(args, stdout, stderr, stop)
}

// NodeFS is the directory holding a node's filesystem.
func (s *Server) NodeFS(node string) string { return s.nodeFS(node) }

package sshnodetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
)

// Scripted commands of Host: a container's argv starting with one of these
// does what its comment says instead of running on the test machine.
const (
	ArgvRecord = "record" // exits 0, only recording its argv
	ArgvBlock  = "block"  // waits until its context ends
	ArgvDrain  = "drain"  // reads stdin to the end and prints its size
)

// Host is an sshnode.Host whose containers share the test machine's
// filesystem and processes: Exec runs argv with os/exec (so push.sh and
// pull.sh really run under sh against real files) and returns its exit
// status, unless argv is scripted. Unlock answers with PVE's texts. Every
// Exec is recorded.
type Host struct {
	mu          sync.Mutex
	cts         map[int]sshnode.Container
	unavailable bool
	calls       []Call

	// Blocked receives when an ArgvBlock command starts, Cancelled its
	// context's error when it ends.
	Blocked   chan struct{}
	Cancelled chan error
}

// Call is one Exec the host received.
type Call struct {
	VMID int
	Argv []string
}

// NewHost returns a host holding these containers.
func NewHost(cts ...sshnode.Container) *Host {
	h := &Host{
		cts:       map[int]sshnode.Container{},
		Blocked:   make(chan struct{}, 64),
		Cancelled: make(chan error, 64),
	}
	for _, ct := range cts {
		h.cts[ct.VMID] = ct
	}
	return h
}

// SetExecUnavailable makes every Exec fail with
// backend.ErrExecUnavailable, like a backend that cannot run commands.
func (h *Host) SetExecUnavailable() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unavailable = true
}

// Container implements sshnode.Host.
func (h *Host) Container(vmid int) (sshnode.Container, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ct, ok := h.cts[vmid]
	return ct, ok
}

// Containers implements sshnode.Host, in descending VMID order on purpose:
// pct list must not rely on the Host's order.
func (h *Host) Containers() []sshnode.Container {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sshnode.Container
	for _, ct := range h.cts {
		out = append(out, ct)
	}
	slices.SortFunc(out, func(a, b sshnode.Container) int { return b.VMID - a.VMID })
	return out
}

// Exec implements sshnode.Host: it records the call, then runs a scripted
// command or argv on the test machine and returns its exit status.
func (h *Host) Exec(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	h.mu.Lock()
	h.calls = append(h.calls, Call{VMID: vmid, Argv: slices.Clone(argv)})
	unavailable := h.unavailable
	h.mu.Unlock()
	if unavailable {
		return 0, backend.ErrExecUnavailable
	}
	switch argv[0] {
	case ArgvRecord:
		return 0, nil
	case ArgvDrain:
		n, err := io.Copy(io.Discard, stdin)
		_, _ = fmt.Fprintln(stdout, n)
		return 0, err
	case ArgvBlock:
		h.Blocked <- struct{}{}
		<-ctx.Done()
		h.Cancelled <- ctx.Err()
		return 0, ctx.Err()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	return 0, err
}

// Unlock implements sshnode.Host: it clears the lock the way the
// simulator's host does, with PVE's text when there is none.
func (h *Host) Unlock(_ context.Context, vmid int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ct, ok := h.cts[vmid]
	switch {
	case !ok:
		return errors.New("Configuration file 'nodes/" + NodeName + "/lxc/" + strconv.Itoa(vmid) + ".conf' does not exist")
	case ct.Lock == "":
		return errors.New("no lock found trying to remove any lock")
	}
	ct.Lock = ""
	h.cts[vmid] = ct
	return nil
}

// Calls returns every Exec so far, oldest first.
func (h *Host) Calls() []Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// LastCall returns the latest Exec and fails the test if there was none.
func (h *Host) LastCall(t testing.TB) Call {
	t.Helper()
	calls := h.Calls()
	if len(calls) == 0 {
		t.Fatal("Host.Exec was never called")
	}
	return calls[len(calls)-1]
}

package sshexec

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInterrupted means a command's outcome is unknown: the connection to
// the node (or the session) ended before the node reported an exit status.
// The command may have run partly, fully or not at all, so it is reported
// and never re-run behind the caller's back. Run wraps it with the node
// and the command's name; test it with errors.Is.
var ErrInterrupted = errors.New("interrupted before it reported an exit status: its outcome is unknown and it was not retried")

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("sshexec: client closed")

// ExitError is a command that ran to the end and exited with a non-zero
// status (or was killed by a signal). Run returns it together with the
// Result, so callers keep stdout; the error text shows the status and a
// short tail of stderr, never stdin.
type ExitError struct {
	// Node is the Proxmox VE node the command ran on.
	Node string
	// Command names the command by its first words ("pct exec 101 -- sh").
	Command string
	// ExitCode is the command's exit status; 128+n when a signal ended it.
	ExitCode int
	// Signal is the signal name ("KILL") when the command was killed.
	Signal string
	// Stderr is the command's standard error (its last 4 MiB).
	Stderr []byte
}

// Error reports node, command, status and the last lines of stderr.
func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on node %q ", e.Command, e.Node)
	if e.Signal != "" {
		fmt.Fprintf(&b, "was killed by signal %s (status %d)", e.Signal, e.ExitCode)
	} else {
		fmt.Fprintf(&b, "exited with status %d", e.ExitCode)
	}
	if tail := stderrTail(e.Stderr); tail != "" {
		b.WriteString(": ")
		b.WriteString(tail)
	}
	return b.String()
}

// Limits of the stderr excerpt in ExitError's text; the full (bounded)
// stderr stays in the Stderr field.
const (
	tailLines = 3
	tailBytes = 400
)

// stderrTail is the last few non-empty lines of stderr on one line,
// shortened from the front to tailBytes.
func stderrTail(stderr []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	var kept []string
	for i := len(lines) - 1; i >= 0 && len(kept) < tailLines; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			kept = append(kept, l)
		}
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	tail := strings.Join(kept, " / ")
	if len(tail) > tailBytes {
		cut := len(tail) - tailBytes
		for cut < len(tail) && tail[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut++
		}
		tail = "…" + tail[cut:]
	}
	return tail
}

package sshexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Command is one command to run on a node.
type Command struct {
	// Argv is the command and its arguments. They are quoted with Quote
	// into one command line for the node's login shell, so each reaches
	// the program as exactly one argument; nothing is ever interpreted by
	// a shell. Use PctExec to run something inside a container.
	Argv []string
	// Stdin, when set, is streamed to the command and closed (EOF) at its
	// end. A read error aborts the command. Run stops reading once the
	// command has exited (a read already under way completes in the
	// background); a producer writing into an io.Pipe should close the
	// pipe's reader after Run returns so it is not left blocked.
	Stdin io.Reader
	// Stdout and Stderr, when set, receive each output line (without its
	// newline) while the command runs, for progress reporting. Calls are
	// serialised and none happens after Run returns; a line longer than
	// 64 KiB arrives in pieces.
	Stdout, Stderr func(line string)
}

// Result is what a command produced. Stdout and Stderr keep the last
// 4 MiB of each stream; ExitCode is -1 when no exit status was received.
type Result struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Run runs cmd on node over the node's shared connection and waits for
// it. It returns the Result and:
//   - nil when the command exited with status 0;
//   - *ExitError (with the Result) for a non-zero status or a signal;
//   - an error wrapping ErrInterrupted (with what output arrived) when the
//     connection dropped while the command ran — the command is never
//     re-run, as it may have taken effect;
//   - ctx's error when ctx ended: the session is closed at once;
//   - a connection, login or host key error (*HostKeyError) otherwise.
//
// A connection found dead before the session opens is re-dialled once.
func (c *Client) Run(ctx context.Context, node string, cmd Command) (*Result, error) {
	if node == "" {
		return nil, errors.New("sshexec: Run needs a node name")
	}
	if err := checkArgv(cmd.Argv); err != nil {
		return nil, err
	}
	name := commandSummary(cmd.Argv)

	nc, reused, err := c.connection(ctx, node, nil)
	if err != nil {
		return nil, err
	}
	sess, release, err := nc.openSession(ctx, c.timing.sessionOpen)
	var refused *ssh.OpenChannelError
	if err != nil && reused && ctx.Err() == nil && !errors.As(err, &refused) {
		// The idle connection died (node rebooted, sshd restarted, NAT
		// forgot it); nothing has run yet, so one new connection is safe.
		subsystemDebug(ctx, "the SSH connection to node was found dead before opening a session; re-dialling once",
			map[string]any{"node": node, "address": nc.addr, "user": c.cfg.Username})
		if nc, _, err = c.connection(ctx, node, nc); err != nil {
			return nil, err
		}
		sess, release, err = nc.openSession(ctx, c.timing.sessionOpen)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh: open a session on node %q for %s: %w", node, name, err)
	}
	defer release()
	defer func() { _ = sess.Close() }()
	return c.runSession(ctx, nc, sess, name, cmd)
}

// checkArgv refuses what cannot be passed as an argument vector.
func checkArgv(argv []string) error {
	if len(argv) == 0 || argv[0] == "" {
		return errors.New("sshexec: Run needs a command (Argv is empty)")
	}
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("sshexec: argument %d of %s contains a NUL byte, which no command can receive", i, commandSummary(argv))
		}
	}
	return nil
}

// runSession starts the command on an open session, streams its I/O and
// turns its end into a Result and error.
func (c *Client) runSession(ctx context.Context, nc *nodeConn, sess *ssh.Session, name string, cmd Command) (*Result, error) {
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("ssh: %s on node %q: %w", name, nc.node, err)
	}
	stdoutPipe, err := sess.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("ssh: %s on node %q: %w", name, nc.node, err)
	}
	stderrPipe, err := sess.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("ssh: %s on node %q: %w", name, nc.node, err)
	}
	gate := &callbackGate{}
	defer gate.close()
	stdout := newCapture(c.outputLimit, cmd.Stdout, gate)
	stderr := newCapture(c.outputLimit, cmd.Stderr, gate)

	fields := map[string]any{"node": nc.node, "command": name}
	subsystemDebug(ctx, "running command over SSH", fields)
	started := time.Now()
	if err := sess.Start(commandLine(cmd.Argv)); err != nil {
		// Never show err: the library's text repeats the command line.
		if !nc.ping(c.timing.probe) {
			nc.close()
			return nil, fmt.Errorf("ssh: connection to node %q lost while starting %s: %w", nc.node, name, ErrInterrupted)
		}
		return nil, fmt.Errorf("ssh: node %q refused to run %s", nc.node, name)
	}

	var readers sync.WaitGroup
	readers.Go(func() { stdout.readFrom(stdoutPipe) })
	readers.Go(func() { stderr.readFrom(stderrPipe) })
	feeder := startStdin(stdin, cmd.Stdin)
	defer feeder.stop()

	exited := make(chan error, 1)
	go func() { exited <- sess.Wait() }()

	var waitErr, abortErr error
	select {
	case waitErr = <-exited:
		readers.Wait()
	case <-ctx.Done():
		select {
		case waitErr = <-exited: // it finished just as ctx ended
			readers.Wait()
		default:
			abortErr = ctx.Err()
		}
	case <-feeder.failed:
		abortErr = fmt.Errorf("reading stdin failed, so the command was aborted: %w", feeder.err)
	}
	if abortErr != nil {
		// End the command: ask for TERM (servers may ignore it) and close
		// the channel, which makes sshd hang up on the command. Output
		// already on its way is collected for a short while.
		_ = sess.Signal(ssh.SIGTERM)
		_ = sess.Close()
		waitBriefly(c.timing.cancelGrace, exited, &readers)
	}

	res := &Result{Stdout: stdout.bytes(), Stderr: stderr.bytes(), ExitCode: -1}
	fields["duration_ms"] = time.Since(started).Milliseconds()
	if abortErr != nil {
		subsystemDebug(ctx, "command over SSH aborted", fields)
		return res, fmt.Errorf("ssh: %s on node %q: %w", name, nc.node, abortErr)
	}
	var exitErr *ssh.ExitError
	switch {
	case waitErr == nil:
		res.ExitCode = 0
	case errors.As(waitErr, &exitErr):
		res.ExitCode = exitErr.ExitStatus()
		fields["exit_code"] = res.ExitCode
		subsystemDebug(ctx, "command over SSH failed", fields)
		return res, &ExitError{Node: nc.node, Command: name, ExitCode: res.ExitCode, Signal: exitErr.Signal(), Stderr: res.Stderr}
	default:
		// The channel closed without an exit status: the connection
		// dropped, or the server ended the session without one. Either way
		// the outcome is unknown.
		if !nc.ping(c.timing.probe) {
			nc.close()
			subsystemDebug(ctx, "SSH connection lost while a command ran", fields)
			return res, fmt.Errorf("ssh: connection to node %q lost while %s ran: %w", nc.node, name, ErrInterrupted)
		}
		subsystemDebug(ctx, "command over SSH ended without an exit status", fields)
		return res, fmt.Errorf("ssh: %s on node %q: the session ended without an exit status: %w", name, nc.node, ErrInterrupted)
	}
	fields["exit_code"] = 0
	subsystemDebug(ctx, "command over SSH finished", fields)
	return res, nil
}

// waitBriefly waits up to d for the session to end and the output readers
// to finish.
func waitBriefly(d time.Duration, exited <-chan error, readers *sync.WaitGroup) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-exited:
		_ = err // the session's end; Run reports its outcome
	case <-timer.C:
		return
	}
	drained := make(chan struct{})
	go func() {
		readers.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-timer.C:
	}
}

// stdinFeeder streams a command's stdin to the session.
type stdinFeeder struct {
	stopped atomic.Bool
	failed  chan struct{} // closed when reading the source failed
	err     error         // the read error, set before failed is closed
}

// startStdin copies src (nothing when nil) into the session's stdin and
// then sends EOF. Write errors mean the command closed its input or ended;
// they just stop the copy.
func startStdin(dst io.WriteCloser, src io.Reader) *stdinFeeder {
	f := &stdinFeeder{failed: make(chan struct{})}
	go func() {
		defer func() { _ = dst.Close() }()
		if src == nil {
			return
		}
		buf := make([]byte, 32<<10)
		for !f.stopped.Load() {
			n, rerr := src.Read(buf)
			if n > 0 && !f.stopped.Load() {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if errors.Is(rerr, io.EOF) {
				return
			}
			if rerr != nil {
				if !f.stopped.Load() {
					f.err = rerr
					close(f.failed)
				}
				return
			}
		}
	}()
	return f
}

// stop ends the copy before its next read.
func (f *stdinFeeder) stop() { f.stopped.Store(true) }

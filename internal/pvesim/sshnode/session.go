package sshnode

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
)

// shellRefusal is what a client asking for an interactive shell reads; the
// node only runs commands.
const shellRefusal = "the simulated Proxmox VE node runs commands only (ssh root@node pct exec <vmid> -- <command>); interactive shells and terminals are not available"

// serveSession runs one session channel: it accepts a single exec (or
// refuses a shell), answers the side requests clients send, and ends the
// command when the client goes away.
func (s *Server) serveSession(nc ssh.NewChannel, remote net.Addr) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()

	started := false
	for req := range reqs {
		switch req.Type {
		case "exec":
			var payload struct{ Command string }
			if started || ssh.Unmarshal(req.Payload, &payload) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			started = true
			_ = req.Reply(true, nil)
			s.goHandler(func() {
				code := s.runExec(ctx, ch, payload.Command)
				s.logf("sshnode %s: %s from %s: exit %d", s.cfg.Node, commandSummary(payload.Command), remote, code)
				finishSession(ch, code)
			})
		case "shell":
			if started {
				_ = req.Reply(false, nil)
				continue
			}
			started = true
			_ = req.Reply(true, nil)
			_, _ = fmt.Fprintln(ch.Stderr(), shellRefusal)
			finishSession(ch, 1)
		case "env":
			// Accepted and ignored: pct sees the node's own environment.
			_ = req.Reply(true, nil)
		default:
			// pty-req, subsystem (sftp), x11-req, signals and unknown
			// requests are refused.
			_ = req.Reply(false, nil)
		}
	}
}

// runExec runs one exec request's command line. The client's stdin reaches
// the command through an OS pipe: a command run with os/exec then gets a
// real file descriptor and its exit does not wait for the client to close
// its input.
func (s *Server) runExec(ctx context.Context, ch ssh.Channel, line string) int {
	stdin, stopStdin, err := pipeInput(ch, s.goHandler)
	if err != nil {
		_, _ = fmt.Fprintf(ch.Stderr(), "sshnode: %v\n", err)
		return 255
	}
	defer stopStdin()
	return s.runCommandLine(ctx, line, stdio{in: stdin, out: ch, err: ch.Stderr()})
}

// pipeInput copies src into an OS pipe on a handler goroutine and returns
// the pipe's read end. stop closes the read end, which also ends the copy
// once src has nothing more (the channel is closed when the session ends).
func pipeInput(src io.Reader, start func(func())) (*os.File, func(), error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("stdin pipe: %w", err)
	}
	start(func() {
		_, _ = io.Copy(w, src)
		_ = w.Close()
	})
	return r, func() { _ = r.Close() }, nil
}

// finishSession reports the exit status the way OpenSSH does: end of
// output, exit-status, then close.
func finishSession(ch ssh.Channel, code int) {
	_ = ch.CloseWrite()
	status := struct{ Status uint32 }{uint32(code & 0xff)}
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(&status))
	_ = ch.Close()
}

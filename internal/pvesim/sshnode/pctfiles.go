package sshnode

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// pushScript and pullScript run inside the container with sh; they receive
// every path and name as a positional argument, never spliced into code.
var (
	//go:embed push.sh
	pushScript string
	//go:embed pull.sh
	pullScript string
)

// maxWorkerStderr bounds what a copy script's error output may hold.
const maxWorkerStderr = 64 << 10

// fileCopyOptions are the --perms, --user and --group options shared by
// push and pull.
type fileCopyOptions struct {
	perms, user, group          string
	hasPerms, hasUser, hasGroup bool
}

func copyOptions(p pctParams) fileCopyOptions {
	var o fileCopyOptions
	o.perms, o.hasPerms = p.get("perms")
	o.user, o.hasUser = p.get("user")
	o.group, o.hasGroup = p.get("group")
	if o.hasPerms && !strings.HasPrefix(o.perms, "0") {
		o.perms = "0" + o.perms // pct: "assume octal as default"
	}
	return o
}

// parsePerms reads a mode like C's strtoul(s, 0) after pct has prefixed
// "0": "0x…" is hexadecimal, anything else octal. ok is false where pct
// says "invalid mode".
func parsePerms(s string) (mode os.FileMode, ok bool) {
	digits, base := s, 8
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		digits, base = s[2:], 16
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, false
	}
	// chmod(2) keeps the permission, setuid, setgid and sticky bits.
	return os.FileMode(n & 0o7777), true
}

// workerFailed reports an error raised inside pct's push/pull worker: pct
// prints it on stderr (newlines folded) and, having no task-result hook
// for these commands, still exits 0.
func workerFailed(w io.Writer, msg string) int {
	msg = strings.ReplaceAll(strings.TrimRight(msg, "\n"), "\n", " ")
	_, _ = fmt.Fprintln(w, msg)
	return 0
}

// pctPush is pct push: the node file is streamed into the container by
// push.sh with the requested mode and owner.
func (s *Server) pctPush(inv *pctInvocation) int {
	vmid := inv.vmid()
	file, _ := inv.params.get("file")
	dest, _ := inv.params.get("destination")
	opts := copyOptions(inv.params)
	if ct, ok := s.cfg.Host.Container(vmid); !ok || ct.Status != "running" {
		// pct checks "running" before loading the config, so an unknown
		// container gets this message too.
		return die(inv.std.err, "can only push files to a running CT")
	}

	src, err := s.openNodeFile(file)
	if err != nil {
		return workerFailed(inv.std.err, fmt.Sprintf("failed to open %s for reading", file))
	}
	defer func() { _ = src.Close() }()

	mode := ""
	if opts.hasPerms {
		if m, ok := parsePerms(opts.perms); ok {
			mode = fmt.Sprintf("%o", uint32(m))
		} else {
			mode = "!" + opts.perms
		}
	}
	argv := []string{
		"sh", "-c", pushScript, "pct-push", dest,
		flag(opts.hasUser), opts.user, flag(opts.hasGroup), opts.group, mode,
	}
	return s.runWorkerScript(inv, argv, src, io.Discard)
}

// pctPull is pct pull: the node file is created (mode and owner applied)
// before pull.sh streams the container file into it, in pct's order.
func (s *Server) pctPull(inv *pctInvocation) int {
	vmid := inv.vmid()
	path, _ := inv.params.get("path")
	dest, _ := inv.params.get("destination")
	opts := copyOptions(inv.params)
	if ct, ok := s.cfg.Host.Container(vmid); !ok || ct.Status != "running" {
		return die(inv.std.err, "can only pull files from a running VM")
	}

	out, msg := s.createNodeFile(dest, opts)
	if msg != "" {
		return workerFailed(inv.std.err, msg)
	}
	defer func() { _ = out.Close() }()

	argv := []string{"sh", "-c", pullScript, "pct-pull", path}
	return s.runWorkerScript(inv, argv, strings.NewReader(""), out)
}

// runWorkerScript runs a push/pull script in the container and turns its
// failure into pct's worker-error report.
func (s *Server) runWorkerScript(inv *pctInvocation, argv []string, stdin io.Reader, stdout io.Writer) int {
	stderr := &tailBuffer{limit: maxWorkerStderr}
	code, err := s.cfg.Host.Exec(inv.ctx, inv.vmid(), argv, stdin, stdout, stderr)
	switch {
	case err != nil && isExecUnavailable(err):
		return execFailed(inv.std.err, err)
	case err != nil:
		return workerFailed(inv.std.err, err.Error())
	case code != 0:
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = fmt.Sprintf("command in CT %d failed with exit status %d", inv.vmid(), code)
		}
		return workerFailed(inv.std.err, msg)
	}
	return 0
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// tailBuffer keeps the last limit bytes written to it, where a failing
// script's error message is, so a chatty command cannot grow memory
// without bound.
type tailBuffer struct {
	bytes.Buffer
	limit int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	_, _ = b.Buffer.Write(p)
	if extra := b.Len() - b.limit; extra > 0 {
		b.Next(extra)
	}
	return len(p), nil
}

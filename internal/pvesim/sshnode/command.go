package sshnode

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// stdio is a command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// pctPaths are the names under which the node's login shell finds pct.
var pctPaths = map[string]bool{"pct": true, "/usr/sbin/pct": true}

// runCommandLine does what the node's login shell (bash -c) does with an
// exec request, for the commands a Proxmox VE node offers over SSH here, and
// returns the exit status.
func (s *Server) runCommandLine(ctx context.Context, line string, std stdio) int {
	words, serr := splitCommandLine(line)
	if serr != nil {
		_, _ = fmt.Fprintln(std.err, serr.message)
		return serr.exitCode
	}
	if len(words) == 0 {
		return 0
	}
	if pctPaths[words[0]] {
		return s.runPct(ctx, words[1:], std)
	}
	if strings.Contains(words[0], "/") {
		_, _ = fmt.Fprintf(std.err, "bash: %s: No such file or directory\n", words[0])
	} else {
		_, _ = fmt.Fprintf(std.err, "bash: %s: command not found\n", words[0])
	}
	return 127
}

// commandSummary names a command line for the log without its arguments,
// which may carry secrets: "pct exec 101", "pct list", or a placeholder.
func commandSummary(line string) string {
	words, serr := splitCommandLine(line)
	if serr != nil || len(words) == 0 {
		return "an unsupported command line"
	}
	if !pctPaths[words[0]] {
		return "a non-pct command"
	}
	summary := "pct"
	if len(words) > 1 && isPlainWord(words[1]) {
		summary += " " + words[1]
		if len(words) > 2 && isDigits(words[2]) {
			summary += " " + words[2]
		}
	}
	return summary
}

// isPlainWord reports whether w looks like a pct subcommand name.
func isPlainWord(w string) bool {
	if w == "" || len(w) > 20 {
		return false
	}
	for _, r := range w {
		if (r < 'a' || r > 'z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

func isDigits(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

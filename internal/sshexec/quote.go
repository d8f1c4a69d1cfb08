package sshexec

import (
	"strconv"
	"strings"
)

// Quote quotes s as one word for a POSIX shell (the node's login shell
// reads every command line it is sent). It is the project's only
// shell-quoting function. A word made only of characters no shell treats
// specially is returned as is, so command lines stay readable; anything
// else is put in single quotes, inside which a shell takes every character
// literally, and each embedded single quote is closed, escaped and reopened.
// The empty string stays an argument:
//
//	Quote("sh")        == sh
//	Quote("a b")       == 'a b'
//	Quote("it's")      == 'it'\''s'
//	Quote("")          == ''
//
// A NUL byte cannot be part of an argument on any POSIX system; Run refuses
// argv containing one.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isShellSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isShellSafe reports whether every byte of s is one a POSIX shell never
// interprets, wherever the word stands. '=' is left out (a first word
// containing it would be taken as a variable assignment), as are '~'
// (tilde expansion) and the glob, quoting, expansion and operator
// characters.
func isShellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("@%+:,./_-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// commandLine joins argv into the one command line an SSH exec request
// carries, every word quoted with Quote.
func commandLine(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = Quote(a)
	}
	return strings.Join(words, " ")
}

// PctExec returns the argv that runs argv inside container vmid on the
// node: pct exec <vmid> -- argv… The "--" keeps pct from reading the
// command's own options as its own. pct does not use a shell, so argv
// reaches the container exactly as given; use "sh", "-c", script for
// pipes and redirections.
func PctExec(vmid int, argv ...string) []string {
	out := make([]string, 0, 4+len(argv))
	out = append(out, "pct", "exec", strconv.Itoa(vmid), "--")
	return append(out, argv...)
}

// maxSummaryWord bounds each word of a command summary.
const maxSummaryWord = 40

// commandSummary names a command for logs and errors without its
// arguments, which may carry secrets or whole scripts: the program, and
// for pct its subcommand and VMID, and for pct exec also the program run in
// the container ("pct exec 101 -- sh").
func commandSummary(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	words := []string{argv[0]}
	if (argv[0] == "pct" || argv[0] == "/usr/sbin/pct") && len(argv) > 1 {
		words = append(words, argv[1])
		if len(argv) > 2 && isDigits(argv[2]) {
			words = append(words, argv[2])
			if argv[1] == "exec" && len(argv) > 4 && argv[3] == "--" {
				words = append(words, "--", argv[4])
			}
		}
	}
	for i, w := range words {
		if len(w) > maxSummaryWord {
			words[i] = w[:maxSummaryWord] + "…"
		}
	}
	return strings.Join(words, " ")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

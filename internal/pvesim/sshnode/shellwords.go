package sshnode

import (
	"fmt"
	"regexp"
	"strings"
)

// shellSyntaxError is a command line the simulated login shell will not
// run, with the message and exit status a client sees.
type shellSyntaxError struct {
	message  string
	exitCode int
}

// unsupported reports shell syntax beyond a simple command. A real node's
// bash would run it; the simulated node refuses it with 127 rather than run
// something other than what the client meant.
func unsupported(construct, what string) *shellSyntaxError {
	return &shellSyntaxError{
		message: fmt.Sprintf("sh: %s (%s): not supported by the simulated node; it runs simple commands only, "+
			"e.g. pct exec <vmid> -- sh -c '<script>'", construct, what),
		exitCode: 127,
	}
}

// unterminated is bash's own complaint about an open quote (exit status 2).
func unterminated(quote byte) *shellSyntaxError {
	return &shellSyntaxError{
		message:  fmt.Sprintf("bash: -c: line 1: unexpected EOF while looking for matching `%c'", quote),
		exitCode: 2,
	}
}

// assignmentPrefix matches a word bash would take as a variable assignment
// when it comes before the command name.
var assignmentPrefix = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// splitCommandLine splits a command line into words the way a POSIX shell
// does for a simple command: blanks separate words; single quotes keep
// everything literally; double quotes keep everything but backslash escapes
// of $ ` " \ and newline; an unquoted backslash escapes the next character
// and a backslash-newline disappears; '#' at the start of a word begins a
// comment. There is no expansion: pipelines, lists, redirections,
// substitutions, globs, tilde expansion and assignments are refused rather
// than run differently from a real shell.
func splitCommandLine(line string) ([]string, *shellSyntaxError) {
	var (
		words     []string
		cur       strings.Builder
		inWord    bool
		wordStart int
	)
	startWord := func(i int) {
		if !inWord {
			inWord = true
			wordStart = i
		}
	}
	endWord := func(i int) *shellSyntaxError {
		if !inWord {
			return nil
		}
		if len(words) == 0 && assignmentPrefix.MatchString(line[wordStart:i]) {
			return unsupported(fmt.Sprintf("%q", line[wordStart:i]), "variable assignments")
		}
		words = append(words, cur.String())
		cur.Reset()
		inWord = false
		return nil
	}

	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if err := endWord(i); err != nil {
				return nil, err
			}
			i++
		case c == '\n':
			return nil, unsupported("newline", "command lists")
		case c == '\\':
			if i+1 < len(line) && line[i+1] == '\n' {
				i += 2
				continue
			}
			startWord(i)
			if i+1 == len(line) {
				cur.WriteByte('\\') // bash keeps a trailing backslash
				i++
				continue
			}
			cur.WriteByte(line[i+1])
			i += 2
		case c == '\'':
			startWord(i)
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, unterminated('\'')
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 2
		case c == '"':
			startWord(i)
			next, err := readDoubleQuoted(line, i+1, &cur)
			if err != nil {
				return nil, err
			}
			i = next
		case c == '#' && !inWord:
			i = len(line) // a comment runs to the end of the line
		case c == '|':
			return nil, unsupported("'|'", "pipelines")
		case c == '&' || c == ';':
			return nil, unsupported(fmt.Sprintf("'%c'", c), "command lists")
		case c == '<' || c == '>':
			return nil, unsupported(fmt.Sprintf("'%c'", c), "redirections")
		case c == '(' || c == ')':
			return nil, unsupported(fmt.Sprintf("'%c'", c), "subshells")
		case c == '`':
			return nil, unsupported("'`'", "command substitution")
		case c == '$' && startsExpansion(line, i+1, true):
			return nil, unsupported("'$'", "expansions")
		case c == '*' || c == '?' || c == '[':
			return nil, unsupported(fmt.Sprintf("'%c'", c), "pathname expansion")
		case c == '~' && !inWord:
			return nil, unsupported("'~'", "tilde expansion")
		default:
			startWord(i)
			cur.WriteByte(c)
			i++
		}
	}
	if err := endWord(len(line)); err != nil {
		return nil, err
	}
	return words, nil
}

// readDoubleQuoted appends the contents of a double-quoted string starting
// at line[i] (just after the opening quote) to cur and returns the index
// after the closing quote.
func readDoubleQuoted(line string, i int, cur *strings.Builder) (int, *shellSyntaxError) {
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\' && i+1 < len(line):
			switch n := line[i+1]; n {
			case '\n':
				// line continuation: both characters disappear
			case '$', '`', '"', '\\':
				cur.WriteByte(n)
			default:
				cur.WriteByte('\\')
				cur.WriteByte(n)
			}
			i += 2
		case c == '`':
			return 0, unsupported("'`'", "command substitution")
		case c == '$' && startsExpansion(line, i+1, false):
			return 0, unsupported("'$'", "expansions")
		default:
			cur.WriteByte(c)
			i++
		}
	}
	return 0, unterminated('"')
}

// startsExpansion reports whether a '$' followed by line[i] begins a
// parameter expansion, arithmetic or command substitution (or, unquoted,
// bash's $'…' and $"…" quoting); otherwise the '$' is literal.
func startsExpansion(line string, i int, unquoted bool) bool {
	if i >= len(line) {
		return false
	}
	c := line[i]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		return true
	case strings.IndexByte("{(@*#?$!-", c) >= 0:
		return true
	case unquoted && (c == '\'' || c == '"'):
		return true
	}
	return false
}

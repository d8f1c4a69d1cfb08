package templatedir

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Problem is one finding of the parser. Problems are values, not errors
// returned early: a template can have many, and the caller decides whether
// an invalid template fails the run or is skipped.
type Problem struct {
	// File is the slash-separated path relative to the discovery root,
	// e.g. "web/template.conf".
	File string
	// Line is the 1-based line in File, or 0 when the problem is about the
	// whole file.
	Line int
	// Message says what is wrong and, where useful, what is accepted.
	Message string
}

// Error formats the problem as "file:line: message" ("file: message" when
// there is no line), the form editors and CI logs link to.
func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return p.File + ": " + p.Message
}

// Problems collects findings split by severity. Errors make a template (or
// a package file) invalid; warnings are worth telling the user but change
// nothing.
type Problems struct {
	Errors   []Problem
	Warnings []Problem
}

func (ps *Problems) errorf(file string, line int, format string, args ...any) {
	ps.Errors = append(ps.Errors, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (ps *Problems) warnf(file string, line int, format string, args ...any) {
	ps.Warnings = append(ps.Warnings, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (ps *Problems) merge(o Problems) {
	ps.Errors = append(ps.Errors, o.Errors...)
	ps.Warnings = append(ps.Warnings, o.Warnings...)
}

// excerpt shortens user text quoted in a message so a problem stays one
// readable line and never carries invalid UTF-8.
func excerpt(s string) string {
	const maxLen = 60
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > maxLen {
		r := []rune(s)
		s = string(r[:maxLen]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

package lxcconf

import "strings"

// NormalizeDescription undoes what PVE does to a description on the way
// through its config file: every line comes back with "\n" appended and
// blank lines are dropped. The normalised form has no blank lines and no
// trailing newline, so a description compares equal however it was
// written.
func NormalizeDescription(s string) string {
	var lines []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) != "" {
			lines = append(lines, strings.TrimRight(line, "\r"))
		}
	}
	return strings.Join(lines, "\n")
}

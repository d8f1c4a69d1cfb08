package pveformat

import (
	"regexp"
	"sort"
	"strings"
)

var tagRE = regexp.MustCompile(`(?i)^[a-z0-9_][a-z0-9_\-+.]*$`)

// SplitTags splits a tag list on every separator PVE accepts: ";", ",",
// whitespace and NUL. Empty items are dropped; nothing else is changed.
func SplitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == 0 || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
	})
}

// ValidTag reports whether tag matches PVE's tag pattern.
func ValidTag(tag string) bool { return tagRE.MatchString(tag) }

// NormalizeTags returns tags the way PVE stores them with the default tag
// style: lower-cased, de-duplicated and sorted.
func NormalizeTags(tags []string) []string {
	seen := make(map[string]bool, len(tags))
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// JoinTags prints a tag list in PVE's stored form ("a;b").
func JoinTags(tags []string) string { return strings.Join(tags, ";") }

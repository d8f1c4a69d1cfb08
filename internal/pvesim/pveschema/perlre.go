package pveschema

import (
	"fmt"
	"regexp"
	"strings"
)

// compilePerlPattern compiles a schema pattern, which the API dump stores as
// a stringified Perl regex ("(?^:…)", "(?^i:…)"), anchored the way PVE
// applies it (m/^$pattern$/).
func compilePerlPattern(pattern string) (*regexp.Regexp, error) {
	translated := strings.NewReplacer("(?^:", "(?:", "(?^i:", "(?i:").Replace(pattern)
	if strings.Contains(translated, "(?^") {
		return nil, fmt.Errorf("unsupported Perl regex flags in %q", pattern)
	}
	re, err := regexp.Compile(`^(?:` + translated + `)$`)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", pattern, err)
	}
	return re, nil
}

// perlFullMatch applies an anchored regex with Perl's meaning of "$", which
// also matches before a final newline.
func perlFullMatch(re *regexp.Regexp, s string) bool {
	if re.MatchString(s) {
		return true
	}
	trimmed, ok := strings.CutSuffix(s, "\n")
	return ok && re.MatchString(trimmed)
}

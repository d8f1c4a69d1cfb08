package templatedir

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateName checks a template name (its directory name) before anything
// is built from it. The name travels far: it is the key of the discovery
// map, the spec's name in Terraform state and JSON, the TEMPLATE_NAME
// variable every provisioning script sees (written to a one-line file and
// read back with $(cat …)), and the default hostname when it is a valid
// one. So it must be valid UTF-8 and consist of printable characters only
// (letters, digits, punctuation, symbols and plain spaces: no newline, tab
// or other control or format character, no other kind of space), must not
// start or end with a space, and must not contain "/" (it is one path
// element). Everything else (dots, dashes, underscores, non-ASCII letters)
// is accepted.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("template name is empty")
	case !utf8.ValidString(name):
		return fmt.Errorf("template directory name %s is not valid UTF-8; rename the directory", excerpt(name))
	case strings.Contains(name, "/"):
		return fmt.Errorf("template name %s contains \"/\"", excerpt(name))
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("template name %s contains the character %U, which is not printable (a newline, tab or other "+
			"control or invisible character); rename the directory: its name becomes the template name, "+
			"TEMPLATE_NAME in scripts and the default hostname", excerpt(name), r)
	}
	if strings.TrimSpace(name) != name {
		return fmt.Errorf("template name %s starts or ends with a space; rename the directory", excerpt(name))
	}
	return nil
}

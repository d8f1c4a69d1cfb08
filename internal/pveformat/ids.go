package pveformat

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The checks below are the client side of PVE's own formats for values
// that end up inside a property string (rootfs, mpN, netN) or a request
// parameter: a storage id, a bridge name, a mount path. A value that
// passes them cannot carry a separator into the property string (no ","
// and no newline), so "local-lvm,ro=1" or "vmbr0,tag=666" are refused
// here, with a reason, instead of reaching Proxmox VE as extra keys. The
// template parser uses them and the simulator checks its configured
// storage ids with ValidateStorageID; the simulator's schema emulates the
// server's own checks separately, Perl quirks included.

// storageIDRE is pve-common's parse_id rule for storage ids (pve-storage-id),
// which PVE matches case-insensitively.
var storageIDRE = regexp.MustCompile(`^(?i:[a-z][a-z0-9\-_.]*[a-z0-9])$`)

// ValidateStorageID checks a storage id against PVE's pve-storage-id format:
// at least two characters, a letter first, then letters, digits, "-", "_"
// or ".", and a letter or digit last ("local-lvm", "nfs.backup"). The error
// says what is wrong and quotes the value.
func ValidateStorageID(id string) error {
	if utf8.RuneCountInString(id) < 2 {
		return fmt.Errorf("storage ID %s is too short: Proxmox VE storage IDs have at least 2 characters", quoteValue(id))
	}
	if !storageIDRE.MatchString(id) {
		return fmt.Errorf("storage ID %s is not a valid Proxmox VE storage ID: it must start with a letter, "+
			"contain only letters, digits, \"-\", \"_\" and \".\", and end with a letter or digit", quoteValue(id))
	}
	return nil
}

// bridgeRE is the pattern of net[n].bridge in pve-container (and of
// pve-common's pve-bridge-id), "[-_.\w\d]+", read as ASCII.
var bridgeRE = regexp.MustCompile(`^[-_.A-Za-z0-9]+$`)

// ValidateBridgeName checks a bridge name against the format PVE accepts
// for net[n].bridge: one or more letters, digits, "-", "_" or "." ("vmbr0",
// "vnet-100"). Perl's \w would also take non-ASCII letters; no Linux
// bridge a container is attached to is named that way, so they are refused.
func ValidateBridgeName(name string) error {
	if name == "" {
		return fmt.Errorf("bridge name is empty")
	}
	if !bridgeRE.MatchString(name) {
		return fmt.Errorf("bridge name %s is not a valid Proxmox VE bridge: use only letters, digits, \"-\", \"_\" and \".\" (e.g. vmbr0)", quoteValue(name))
	}
	return nil
}

// ValidateMountPath checks a container mount point path (mp[n]'s mp=): an
// absolute path that PVE's pve-lxc-mp-string format accepts (no "/./" or
// "/../" element, no trailing "/." or "/.."), without the property-string
// separator "," and without control characters such as a newline, which
// would end the config line.
func ValidateMountPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("mount path is empty")
	case !utf8.ValidString(p):
		return fmt.Errorf("mount path %s is not valid UTF-8", quoteValue(p))
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("mount path %s must be an absolute path inside the container (start with \"/\")", quoteValue(p))
	case strings.ContainsFunc(p, unicode.IsControl):
		return fmt.Errorf("mount path %s contains a control character (such as a newline or tab)", quoteValue(p))
	case strings.Contains(p, ","):
		return fmt.Errorf("mount path %s contains \",\", which separates options in Proxmox VE's mount point setting", quoteValue(p))
	case hasDotElement(p):
		return fmt.Errorf("mount path %s contains a \".\" or \"..\" element, which Proxmox VE refuses", quoteValue(p))
	}
	return nil
}

// hasDotElement is pve-container's verify_lxc_mp_string: "/./" or "/../"
// anywhere, "/." or "/.." at the end.
func hasDotElement(p string) bool {
	for _, el := range strings.Split(p, "/")[1:] {
		if el == "." || el == ".." {
			return true
		}
	}
	return false
}

// quoteValue quotes a user value for an error message, shortened so that
// one message stays one readable line.
func quoteValue(s string) string {
	const maxRunes = 60
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

package lxcconf

import (
	"slices"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Features are the container's LXC feature flags (the features key).
type Features struct {
	Nesting, Keyctl, Fuse, Mknod bool
	Mount                        []string // file system types, sorted
}

// Any reports whether a feature flag is set; PVE then needs a features key.
func (f Features) Any() bool {
	return f.Nesting || f.Keyctl || f.Fuse || f.Mknod || len(f.Mount) > 0
}

// BeyondNesting reports whether a flag other than nesting is set: PVE lets
// only root@pam set those.
func (f Features) BeyondNesting() bool {
	return f.Keyctl || f.Fuse || f.Mknod || len(f.Mount) > 0
}

// Equal compares two sets of flags.
func (f Features) Equal(o Features) bool {
	return f.Nesting == o.Nesting && f.Keyctl == o.Keyctl && f.Fuse == o.Fuse && f.Mknod == o.Mknod && slices.Equal(f.Mount, o.Mount)
}

func (f Features) property() pveformat.PropertyString {
	var ps pveformat.PropertyString
	for _, flag := range []struct {
		key string
		on  bool
	}{{"fuse", f.Fuse}, {"keyctl", f.Keyctl}, {"mknod", f.Mknod}, {"nesting", f.Nesting}} {
		if flag.on {
			ps.Set(flag.key, "1")
		}
	}
	if len(f.Mount) > 0 {
		ps.Set("mount", strings.Join(f.Mount, ";"))
	}
	return ps
}

func parseFeatures(ps pveformat.PropertyString) Features {
	f := Features{
		Nesting: propertyBool(ps, "nesting", false), Keyctl: propertyBool(ps, "keyctl", false),
		Fuse: propertyBool(ps, "fuse", false), Mknod: propertyBool(ps, "mknod", false),
	}
	if m := ps.Value("mount"); m != "" {
		f.Mount = strings.Split(m, ";")
		slices.Sort(f.Mount)
	}
	return f
}

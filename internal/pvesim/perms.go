package pvesim

import (
	"regexp"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// The simulator's permission model: root@pam and root@pam's API tokens
// hold every privilege, except for the changes pve-container reserves to
// the literal user root@pam (check_ct_modify_config_perm), which a token
// id never is.

var devKeyRE = regexp.MustCompile(`^dev\d+$`)

// checkRootOnly applies the root@pam-only rules to a create or a config
// change: set are the new values, deleted the keys being deleted (or
// reverted), old the current config (nil on create) and unprivileged the
// container's (or the create's) unprivileged flag.
func checkRootOnly(who principal, set map[string]string, deleted []string, old map[string]string, unprivileged bool) *apiError {
	if who.isRootPam() {
		return nil
	}
	check := func(opt string, isDelete bool) *apiError {
		switch {
		case isVolumeKey(opt):
			if isDelete {
				return nil
			}
			// An unparsable value was rejected by the schema check already.
			if ps, err := parseMountPoint(opt, set[opt]); err == nil {
				if t := mountPointType(ps.Value("volume")); t != "volume" {
					return permErr("mount point type " + t + " is only allowed for root@pam")
				}
			}
		case devKeyRE.MatchString(opt):
			return permErr("configuring device passthrough is only allowed for root@pam")
		case opt == "hookscript":
			return permErr("changing the hookscript is only allowed for root@pam")
		case opt == "features":
			if !unprivileged {
				return permErr("changing feature flags for privileged container is only allowed for root@pam")
			}
			if featuresOtherThanNesting(set["features"], old["features"], isDelete) {
				return permErr("changing feature flags (except nesting) is only allowed for root@pam")
			}
		}
		return nil
	}
	for _, opt := range sortedKeys(set) {
		if err := check(opt, false); err != nil {
			return err
		}
	}
	for _, opt := range deleted {
		if err := check(opt, true); err != nil {
			return err
		}
	}
	return nil
}

// featuresOtherThanNesting reports whether a features change touches more
// than the nesting flag, following pve-container's comparison.
func featuresOtherThanNesting(newValue, oldValue string, isDelete bool) bool {
	parse := func(v string) map[string]string {
		out := map[string]string{}
		if v == "" {
			return out
		}
		p, ok := schema.ConfigKey("features")
		if !ok {
			return out
		}
		ps, err := p.ParseValue(v)
		if err != nil {
			return out
		}
		for _, k := range ps.Keys() {
			out[k] = ps.Value(k)
		}
		return out
	}
	onlyNesting := func(f map[string]string) bool {
		b, _ := pveformat.ParseBool(f["nesting"])
		return len(f) == 1 && b
	}
	if isDelete {
		old := parse(oldValue)
		return !onlyNesting(old) && len(old) > 0
	}
	nf := parse(newValue)
	if oldValue == "" {
		return !onlyNesting(nf) && len(nf) > 0
	}
	of := parse(oldValue)
	keys := map[string]bool{}
	for k := range nf {
		keys[k] = true
	}
	for k := range of {
		keys[k] = true
	}
	for k := range keys {
		if nf[k] == of[k] {
			continue
		}
		if k != "nesting" {
			return true
		}
	}
	return false
}

package pveschema

import (
	"strconv"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// namedPropertyStringFormat returns the keys and validator of a format that
// PVE registers by name as a property string (the API dump only names it).
// keys is nil for formats that are not property strings.
func namedPropertyStringFormat(name string) (keys map[string]*Property, validate func(pveformat.PropertyString) string) {
	if name != "prune-backups" {
		return nil, nil
	}
	return pruneBackupsKeys(), validatePruneBackups
}

// pruneBackupsKeys is pve-storage's prune-backups format: keep-all, and
// keep-last … keep-yearly as non-negative integers.
func pruneBackupsKeys() map[string]*Property {
	keys := map[string]*Property{
		"keep-all": {Name: "keep-all", Key: "keep-all", Type: "boolean", Optional: true, MinLength: -1, MaxLength: -1},
	}
	for _, k := range []string{"keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly"} {
		keys[k] = &Property{Name: k, Key: k, Type: "integer", Optional: true, MinLength: -1, MaxLength: -1, Minimum: "0"}
	}
	return keys
}

// validatePruneBackups is validate_prune_backups: keep-all may not be
// combined with a positive keep-* option.
func validatePruneBackups(ps pveformat.PropertyString) string {
	keepAll := ps.Value("keep-all") == "1"
	for _, k := range ps.Keys() {
		if k == "keep-all" {
			continue
		}
		if n, err := strconv.ParseFloat(ps.Value(k), 64); err == nil && n > 0 && keepAll {
			return "keep-all cannot be set together with other options.\n"
		}
	}
	return ""
}

package lxcconf

import (
	"strconv"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// flag is "1" for true and "" (not sent) for false, for keys whose default
// is off.
func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}

func positiveInt(v int64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func positiveFloat(v float64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// propertyBool reads a lenient boolean; absent or unreadable is def.
func propertyBool(ps pveformat.PropertyString, key string, def bool) bool {
	v, ok := ps.Get(key)
	if !ok {
		return def
	}
	b, valid := pveformat.ParseBool(v)
	if !valid {
		return def
	}
	return b
}

func propertyInt(ps pveformat.PropertyString, key string) (int64, error) {
	v := ps.Value(key)
	if v == "" {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

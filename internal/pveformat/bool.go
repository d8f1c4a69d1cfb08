package pveformat

import "strings"

// ParseBool reads a boolean the lenient way PVE does inside property strings
// (and the way template.conf authors write them): 1/on/yes/true and
// 0/off/no/false, case-insensitive. ok is false for anything else.
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "1", "on", "yes", "true":
		return true, true
	case "0", "off", "no", "false":
		return false, true
	}
	return false, false
}

// FormatBool prints a boolean as PVE sends and stores it: "1" or "0".
func FormatBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

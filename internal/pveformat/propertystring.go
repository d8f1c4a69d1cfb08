package pveformat

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// PropertyString is a parsed Proxmox VE property string such as
// "name=eth0,bridge=vmbr0,ip=dhcp": its keys in input order and their values.
type PropertyString struct {
	keys   []string
	values map[string]string
}

// Parse errors carry PVE's own texts so the simulator can return them verbatim.
var (
	ErrPropertyMissingKey   = errors.New("missing key in comma-separated list property")
	ErrPropertyNoDefaultKey = errors.New("value without key, but schema does not define a default key")
)

// PropertyKeyError reports a key that is duplicated or not part of the format.
type PropertyKeyError struct {
	Key       string
	Duplicate bool
}

func (e *PropertyKeyError) Error() string {
	if e.Duplicate {
		return "duplicate key in comma-separated list property: " + e.Key
	}
	return "invalid key in comma-separated list property: " + e.Key
}

// ParsePropertyString splits s the way PVE's parse_property_string does:
// parts separated by ",", each "key=value" or, when the format has a default
// key, a bare value for that key. known, when not nil, says which keys the
// format defines; unknown keys are then an error.
func ParsePropertyString(s, defaultKey string, known func(key string) bool) (PropertyString, error) {
	p := PropertyString{values: map[string]string{}}
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		key, value, hasEq := strings.Cut(part, "=")
		switch {
		case hasEq && key != "" && value != "":
			if _, dup := p.values[key]; dup {
				return PropertyString{}, &PropertyKeyError{Key: key, Duplicate: true}
			}
			if known != nil && !known(key) {
				return PropertyString{}, &PropertyKeyError{Key: key}
			}
			p.set(key, value)
		case !hasEq:
			if defaultKey == "" {
				return PropertyString{}, ErrPropertyNoDefaultKey
			}
			if _, dup := p.values[defaultKey]; dup {
				return PropertyString{}, &PropertyKeyError{Key: defaultKey, Duplicate: true}
			}
			p.set(defaultKey, part)
		default:
			return PropertyString{}, ErrPropertyMissingKey
		}
	}
	return p, nil
}

func (p *PropertyString) set(key, value string) {
	if p.values == nil {
		p.values = map[string]string{}
	}
	if _, ok := p.values[key]; !ok {
		p.keys = append(p.keys, key)
	}
	p.values[key] = value
}

// Set adds or replaces a key; an empty value removes it.
func (p *PropertyString) Set(key, value string) {
	if value == "" {
		p.Delete(key)
		return
	}
	p.set(key, value)
}

// Delete removes a key.
func (p *PropertyString) Delete(key string) {
	if _, ok := p.values[key]; !ok {
		return
	}
	delete(p.values, key)
	for i, k := range p.keys {
		if k == key {
			p.keys = append(p.keys[:i], p.keys[i+1:]...)
			break
		}
	}
}

// Get returns the value of key and whether it is present.
func (p PropertyString) Get(key string) (string, bool) {
	v, ok := p.values[key]
	return v, ok
}

// Value returns the value of key, or "" when it is absent.
func (p PropertyString) Value(key string) string { return p.values[key] }

// Keys returns the keys in the order they were parsed or set.
func (p PropertyString) Keys() []string { return append([]string(nil), p.keys...) }

// Len is the number of keys.
func (p PropertyString) Len() int { return len(p.keys) }

// PropertyFormat describes how PVE prints a property string back: the default
// key goes first without "key=", then the required keys, then the rest, each
// group sorted by name; sizes are printed in their largest exact unit.
type PropertyFormat struct {
	DefaultKey string
	Required   []string
	SizeKeys   []string
}

// PropertyValueError reports a value that would change the meaning of the
// property string it is printed into: a "," starts another key, a newline
// ends the config line, and a bare default-key value with "=" reads as a key.
type PropertyValueError struct {
	Key, Value string
}

func (e *PropertyValueError) Error() string {
	return fmt.Sprintf("the value %q of %s cannot be written into a Proxmox VE property string: it contains %s",
		e.Value, e.Key, e.reason())
}

func (e *PropertyValueError) reason() string {
	switch {
	case strings.Contains(e.Value, ","):
		return `",", which separates the string's keys`
	case strings.ContainsAny(e.Value, "\r\n"):
		return "a line break"
	}
	return `"=", which would make the bare value read as a key`
}

// Format prints p in PVE's canonical order. It is the one encoder of
// property strings: a value that contains a separator is refused with a
// *PropertyValueError rather than printed, so no input can smuggle extra
// keys (a VLAN tag in a bridge name, ro=1 in a storage id) into PVE.
func (f PropertyFormat) Format(p PropertyString) (string, error) {
	sorted := append([]string(nil), p.keys...)
	sort.Strings(sorted)
	done := map[string]bool{}
	parts := make([]string, 0, len(sorted))
	var bad error
	add := func(key string, bare bool) {
		value, ok := p.values[key]
		if done[key] || !ok {
			return
		}
		done[key] = true
		if strings.ContainsAny(value, ",\r\n") || (bare && strings.Contains(value, "=")) {
			if bad == nil {
				bad = &PropertyValueError{Key: key, Value: value}
			}
			return
		}
		if contains(f.SizeKeys, key) {
			if n, err := ParseDiskSize(value); err == nil {
				value = FormatDiskSize(n)
			}
		}
		if bare {
			parts = append(parts, value)
			return
		}
		parts = append(parts, key+"="+value)
	}
	if f.DefaultKey != "" {
		add(f.DefaultKey, true)
	}
	for _, k := range sorted {
		if contains(f.Required, k) {
			add(k, false)
		}
	}
	for _, k := range sorted {
		add(k, false)
	}
	if bad != nil {
		return "", bad
	}
	return strings.Join(parts, ","), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

package pveschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Property is the schema of one parameter, config key or property-string
// sub-key.
type Property struct {
	// Name is the schema name ("vmid", "net[n]", or a sub-key like "ip").
	Name string
	// Key is the concrete name errors are reported under: Name, or for a
	// Property returned by API.ConfigKey the indexed key ("net0").
	Key         string
	Type        string // "string", "integer", "number", "boolean", or "" (any)
	Description string
	Optional    bool
	// Default is the schema default as PVE prints it; HasDefault says
	// whether there is one.
	Default    string
	HasDefault bool
	Enum       []string
	// Format is a named format ("pve-vmid", "pve-tag-list"); empty for a
	// property string, whose keys are in Keys.
	Format     string
	Keys       map[string]*Property
	DefaultKey string // the property string's key that may be given bare
	Requires   string // another parameter that must be present with this one
	Pattern    string // as written in the schema (Perl syntax)
	MinLength  int    // -1 when absent
	MaxLength  int    // -1 when absent
	Minimum    string // as PVE prints it; "" when absent
	Maximum    string
	TypeText   string

	pattern    *regexp.Regexp
	minValue   float64
	maxValue   float64
	isDefault  bool // this sub-key is its property string's default key
	checkFmt   formatCheck
	validate   func(pveformat.PropertyString) string
	psFormat   pveformat.PropertyFormat
	knownKeyFn func(string) bool
}

type propertyJSON struct {
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Optional    json.RawMessage   `json:"optional"`
	Default     json.RawMessage   `json:"default"`
	Enum        []json.RawMessage `json:"enum"`
	Format      json.RawMessage   `json:"format"`
	DefaultKey  json.RawMessage   `json:"default_key"`
	Requires    json.RawMessage   `json:"requires"`
	Pattern     string            `json:"pattern"`
	MinLength   json.RawMessage   `json:"minLength"`
	MaxLength   json.RawMessage   `json:"maxLength"`
	Minimum     json.RawMessage   `json:"minimum"`
	Maximum     json.RawMessage   `json:"maximum"`
	TypeText    string            `json:"typetext"`
	Alias       string            `json:"alias"`
}

func parseProperty(name string, raw json.RawMessage, topLevel bool) (*Property, error) {
	var pj propertyJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&pj); err != nil {
		return nil, err
	}
	if pj.Alias != "" {
		return nil, fmt.Errorf("aliases are not supported")
	}
	switch pj.Type {
	case "", "string", "integer", "number", "boolean":
	default:
		return nil, fmt.Errorf("type %q is not supported", pj.Type)
	}
	p := &Property{
		Name:        name,
		Key:         name,
		Type:        pj.Type,
		Description: pj.Description,
		Optional:    perlTrue(pj.Optional),
		Pattern:     pj.Pattern,
		TypeText:    pj.TypeText,
		MinLength:   -1,
		MaxLength:   -1,
		isDefault:   perlTrue(pj.DefaultKey),
	}
	if len(pj.Default) > 0 {
		p.Default, p.HasDefault = perlScalar(pj.Default), true
	}
	for _, e := range pj.Enum {
		p.Enum = append(p.Enum, perlScalar(e))
	}
	if len(pj.Requires) > 0 {
		var req string
		if err := json.Unmarshal(pj.Requires, &req); err != nil {
			return nil, fmt.Errorf("only a parameter name is supported as requires: %w", err)
		}
		p.Requires = req
	}
	var err error
	if p.MinLength, err = schemaInt(pj.MinLength); err != nil {
		return nil, fmt.Errorf("minLength: %w", err)
	}
	if p.MaxLength, err = schemaInt(pj.MaxLength); err != nil {
		return nil, fmt.Errorf("maxLength: %w", err)
	}
	if p.Minimum, p.minValue, err = schemaNumber(pj.Minimum); err != nil {
		return nil, fmt.Errorf("minimum: %w", err)
	}
	if p.Maximum, p.maxValue, err = schemaNumber(pj.Maximum); err != nil {
		return nil, fmt.Errorf("maximum: %w", err)
	}
	if pj.Pattern != "" {
		if p.pattern, err = compilePerlPattern(pj.Pattern); err != nil {
			return nil, fmt.Errorf("pattern: %w", err)
		}
	}
	if len(pj.Format) > 0 {
		if err := p.setFormat(pj.Format, topLevel); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// setFormat resolves a named format to its checker, or parses an inline
// property-string format (an object of sub-keys).
func (p *Property) setFormat(raw json.RawMessage, topLevel bool) error {
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		p.Format = name
		if keys, validate := namedPropertyStringFormat(name); keys != nil {
			p.setKeys(keys)
			p.validate = validate
			return nil
		}
		check, err := lookupFormat(name)
		if err != nil {
			return err
		}
		p.checkFmt = check
		return nil
	}
	if !topLevel {
		return fmt.Errorf("nested property-string formats are not supported")
	}
	var sub map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sub); err != nil {
		return fmt.Errorf("format is neither a name nor an object: %w", err)
	}
	keys := make(map[string]*Property, len(sub))
	for k, kraw := range sub {
		sp, err := parseProperty(k, kraw, false)
		if err != nil {
			return fmt.Errorf("key %s: %w", k, err)
		}
		if sp.isDefault {
			if p.DefaultKey != "" {
				return fmt.Errorf("two default keys: %s and %s", p.DefaultKey, k)
			}
			p.DefaultKey = k
		}
		keys[k] = sp
	}
	p.setKeys(keys)
	return nil
}

// setKeys installs a property string's sub-keys and derives PVE's print
// order from them.
func (p *Property) setKeys(keys map[string]*Property) {
	p.Keys = keys
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	p.psFormat = pveformat.PropertyFormat{DefaultKey: p.DefaultKey}
	for _, k := range names {
		sp := keys[k]
		if !sp.Optional {
			p.psFormat.Required = append(p.psFormat.Required, k)
		}
		if sp.Format == "disk-size" {
			p.psFormat.SizeKeys = append(p.psFormat.SizeKeys, k)
		}
	}
	p.knownKeyFn = func(k string) bool { return p.Keys[k] != nil }
}

// IsPropertyString reports whether values of p are property strings
// ("name=eth0,bridge=vmbr0").
func (p *Property) IsPropertyString() bool { return p.Keys != nil }

// SubKeys lists a property string's keys, sorted.
func (p *Property) SubKeys() []string {
	keys := make([]string, 0, len(p.Keys))
	for k := range p.Keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// schemaInt reads an optional integer attribute (maxLength …); -1 if absent.
func schemaInt(raw json.RawMessage) (int, error) {
	if len(raw) == 0 {
		return -1, nil
	}
	n, err := strconv.Atoi(perlScalar(raw))
	if err != nil {
		return 0, err
	}
	return n, nil
}

// schemaNumber reads an optional numeric attribute (minimum …): the text
// PVE prints in its messages and the value it compares with.
func schemaNumber(raw json.RawMessage) (string, float64, error) {
	if len(raw) == 0 {
		return "", 0, nil
	}
	text := perlScalar(raw)
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return "", 0, err
	}
	return text, f, nil
}

// perlScalar prints a JSON scalar the way Perl stringifies the decoded value.
func perlScalar(raw json.RawMessage) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	return perlString(v)
}

// perlTrue is Perl's truthiness of a JSON scalar from the schema
// (optional, default_key, allowtoken … are 0/1).
func perlTrue(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	s := perlScalar(raw)
	return s != "" && s != "0"
}

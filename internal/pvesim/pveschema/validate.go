package pveschema

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Validate checks a request's parameters against the method's schema as
// PVE does before running a handler. params are the raw parameters merged
// the way PVE merges them (path parameters, query, body): string for form
// and query values, []string for a repeated form key, or JSON-decoded
// values (bool, float64 or json.Number, string, []any, nil) for a JSON
// body. "_dc" is dropped.
//
// errs maps each failing parameter to PVE's message, trailing "\n"
// included where PVE has one; it is nil when the request is valid. values
// holds every valid parameter as a handler sees it (see Values).
func (m *Method) Validate(params map[string]any) (values Values, errs map[string]string) {
	raw := make(map[string]value, len(params))
	for k, v := range params {
		if k == "_dc" {
			continue
		}
		raw[k] = m.normaliseLegacy(k, newValue(v))
	}
	es := errorSet{}
	checkObject("", m.params, m.indexed, raw, m.AdditionalProperties, es)
	values = make(Values, len(raw))
	for k, v := range raw {
		if _, bad := es[k]; bad || (v.kind != kindScalar && v.kind != kindBool) {
			continue
		}
		values[k] = m.handlerText(k, v)
	}
	if len(es) == 0 {
		return values, nil
	}
	return values, es
}

// ValidateWithPath merges the path parameters of a Lookup into params and
// validates the result. Like PVE, a parameter also given in the query or
// body with a different value is rejected on its own (400 with
// "duplicate parameter (already defined in URI) with conflicting values!")
// before anything else is checked.
func (m *Method) ValidateWithPath(pathParams map[string]string, params map[string]any) (Values, map[string]string) {
	names := make([]string, 0, len(pathParams))
	for k := range pathParams {
		names = append(names, k)
	}
	sort.Strings(names)
	merged := make(map[string]any, len(params)+len(pathParams))
	for k, v := range params {
		merged[k] = v
	}
	for _, k := range names {
		if given, ok := params[k]; ok && given != nil {
			v := newValue(given)
			if (v.kind != kindScalar && v.kind != kindBool) || v.text != pathParams[k] {
				return nil, map[string]string{k: msgDuplicate}
			}
		}
		merged[k] = pathParams[k]
	}
	return m.Validate(merged)
}

// normaliseLegacy applies PVE's normalize_legacy_param_formats: an array
// sent for a string parameter with a "-list" format becomes the
// comma-joined list.
func (m *Method) normaliseLegacy(key string, v value) value {
	if v.kind != kindArray {
		return v
	}
	p, ok := m.Param(key)
	if !ok || p.Type != "string" || !strings.HasSuffix(p.Format, "-list") {
		return v
	}
	return value{kind: kindScalar, text: strings.Join(v.items, ",")}
}

// handlerText is the text a handler works with: booleans 1/0 and integers
// in plain decimal (PVE's handlers treat "+0100" and "100" alike).
func (m *Method) handlerText(key string, v value) string {
	p, ok := m.Param(key)
	if !ok || p.Type != "integer" {
		return v.text
	}
	s := strings.TrimSuffix(v.text, "\n")
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	return s
}

// Check validates one value of p (a config key, for example) exactly as
// Validate would, returning PVE's message or "" when the value is valid.
func (p *Property) Check(value string) string {
	es := errorSet{}
	checkProp(newValue(value), p, p.Key, es)
	return es[p.Key]
}

// ParseValue parses a property-string value of p ("name=eth0,ip=dhcp") with
// the schema's keys and default key, normalises lenient booleans to 1/0 and
// validates every sub-key. The error text is what Validate reports after
// "invalid format - ", e.g. "format error\nnet0.ip: invalid format - value
// does not look like a valid ipv4 network configuration\n\n".
func (p *Property) ParseValue(s string) (pveformat.PropertyString, error) {
	if p.Keys == nil {
		return pveformat.PropertyString{}, errors.New(p.Key + " is not a property string")
	}
	ps, msg := p.parsePropertyString(s, p.Key)
	if msg != "" {
		return pveformat.PropertyString{}, errors.New(msg)
	}
	return ps, nil
}

// Canonical prints a parsed property string the way PVE writes it back: the
// default key bare, then the required keys, then the others sorted; disk
// sizes in their largest exact unit. It fails only for a value that holds a
// separator, which a parsed value never does.
func (p *Property) Canonical(ps pveformat.PropertyString) (string, error) {
	return p.psFormat.Format(ps)
}

// parsePropertyString is PVE's parse_property_string: split, booleans
// normalised, then check_object over the sub-keys. msg is the exception
// text PVE would produce ("" on success).
func (p *Property) parsePropertyString(s, path string) (pveformat.PropertyString, string) {
	ps, err := pveformat.ParsePropertyString(s, p.DefaultKey, p.knownKeyFn)
	if err != nil {
		return ps, err.Error() + "\n"
	}
	subValues := make(map[string]value, ps.Len())
	for _, k := range ps.Keys() {
		v := ps.Value(k)
		if sub := p.Keys[k]; sub != nil && sub.Type == "boolean" {
			if b, ok := pveformat.ParseBool(v); ok {
				v = pveformat.FormatBool(b)
				ps.Set(k, v)
			}
		}
		subValues[k] = value{kind: kindScalar, text: v}
	}
	es := errorSet{}
	checkObject(path, p.Keys, nil, subValues, false, es)
	if len(es) > 0 {
		// PVE's exception prints "format error\n" and then "key: msg\n" per
		// error (in hash order; sorted here to be stable).
		keys := make([]string, 0, len(es))
		for k := range es {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("format error\n")
		for _, k := range keys {
			b.WriteString(k + ": " + es[k] + "\n")
		}
		return ps, b.String()
	}
	if p.validate != nil {
		if msg := p.validate(ps); msg != "" {
			return ps, msg
		}
	}
	return ps, ""
}

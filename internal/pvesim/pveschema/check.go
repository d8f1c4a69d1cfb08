package pveschema

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Messages PVE's check_prop and check_object add, verbatim.
const (
	msgMissing    = "property is missing and it is not optional"
	msgAdditional = "property is not defined in schema and the schema does not allow additional properties"
	msgPattern    = "value does not match the regex pattern"
	msgDuplicate  = "duplicate parameter (already defined in URI) with conflicting values!"
)

// errorSet collects per-parameter messages like PVE's add_error: a second
// message for the same path is appended after a literal backslash-n (PVE
// joins with '\n' in single quotes).
type errorSet map[string]string

func (e errorSet) add(path, msg string) {
	if path == "" {
		path = "_root"
	}
	if old, ok := e[path]; ok {
		e[path] = old + `\n` + msg
		return
	}
	e[path] = msg
}

// checkProp validates one value against its schema in PVE's order: type,
// format, pattern, maxLength, minLength, maximum, minimum, enum; the first
// failure is the only one reported for the value.
func checkProp(v value, p *Property, path string, errs errorSet) {
	if v.kind == kindUndef {
		if !p.Optional {
			errs.add(path, msgMissing)
		}
		return
	}
	if !checkType(v, p.Type, path, errs) {
		return
	}
	if v.kind != kindScalar {
		// A JSON boolean for a boolean parameter: nothing else applies.
		return
	}
	s := v.text
	if p.Keys != nil {
		if _, msg := p.parsePropertyString(s, path); msg != "" {
			errs.add(path, "invalid format - "+msg)
			return
		}
	} else if p.checkFmt != nil {
		if msg := p.checkFmt(s); msg != "" {
			errs.add(path, "invalid format - "+msg)
			return
		}
	}
	if p.pattern != nil && !perlFullMatch(p.pattern, s) {
		errs.add(path, msgPattern)
		return
	}
	if p.MaxLength >= 0 && utf8.RuneCountInString(s) > p.MaxLength {
		errs.add(path, "value may only be "+strconv.Itoa(p.MaxLength)+" characters long")
		return
	}
	if p.MinLength >= 0 && utf8.RuneCountInString(s) < p.MinLength {
		errs.add(path, "value must be at least "+strconv.Itoa(p.MinLength)+" characters long")
		return
	}
	if (p.Maximum != "" || p.Minimum != "") && isNumber(s) {
		n, _ := strconv.ParseFloat(strings.TrimSuffix(s, "\n"), 64)
		if p.Maximum != "" && n > p.maxValue {
			errs.add(path, "value must have a maximum value of "+p.Maximum)
			return
		}
		if p.Minimum != "" && n < p.minValue {
			errs.add(path, "value must have a minimum value of "+p.Minimum)
			return
		}
	}
	if p.Enum != nil {
		for _, e := range p.Enum {
			if e == s {
				return
			}
		}
		errs.add(path, "value '"+s+"' does not have a value in the enumeration '"+strings.Join(p.Enum, ", ")+"'")
	}
}

// checkType is PVE's check_type for the scalar types the API uses.
func checkType(v value, typ, path string, errs errorSet) bool {
	if typ == "" {
		return true
	}
	if v.kind != kindScalar {
		if typ == "boolean" && v.kind == kindBool {
			return true
		}
		errs.add(path, "type check ('"+typ+"') failed - got "+v.refName())
		return false
	}
	ok := true
	switch typ {
	case "boolean":
		ok = v.text == "1" || v.text == "0"
	case "integer":
		ok = isInteger(v.text)
	case "number":
		ok = isNumber(v.text)
	}
	if !ok {
		errs.add(path, "type check ('"+typ+"') failed - got '"+v.text+"'")
	}
	return ok
}

var (
	integerRE = regexp.MustCompile(`^[+-]?[0-9]+$`)
	numberRE  = regexp.MustCompile(`^[+-]?([0-9]+\.[0-9]+|[0-9]+\.|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?$`)
)

func isInteger(s string) bool { return perlFullMatch(integerRE, s) }
func isNumber(s string) bool  { return perlFullMatch(numberRE, s) }

// checkObject is PVE's check_object: every schema key is checked (missing
// required keys included), then every given key must be in the schema and
// have what it "requires". lookup resolves a given key to its schema.
func checkObject(path string, schema map[string]*Property, extra []*indexedParam, values map[string]value, allowAdditional bool, errs errorSet) {
	for name, p := range schema {
		checkProp(values[name], p, joinPath(path, name), errs)
	}
	for key, v := range values {
		p := schema[key]
		if p == nil {
			p = matchIndexed(extra, key)
			if p != nil {
				checkProp(v, p, joinPath(path, key), errs)
			}
		}
		if p == nil {
			if !allowAdditional {
				errs.add(joinPath(path, key), msgAdditional)
			}
			continue
		}
		if p.Requires != "" {
			if values[p.Requires].kind == kindUndef {
				errs.add(joinPath(path, p.Requires), "missing property required by '"+key+"'")
			}
		}
	}
}

func matchIndexed(indexed []*indexedParam, key string) *Property {
	for _, ip := range indexed {
		rest, ok := strings.CutPrefix(key, ip.prefix)
		if !ok || rest == "" || (rest[0] == '0' && len(rest) > 1) {
			continue
		}
		n := 0
		for _, c := range rest {
			if c < '0' || c > '9' {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
			if n >= ip.count {
				break
			}
		}
		if n >= 0 && n < ip.count {
			return ip.prop
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

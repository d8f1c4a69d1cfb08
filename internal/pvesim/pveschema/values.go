package pveschema

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Values are validated request parameters as a handler sees them: every
// value is text, booleans are "1"/"0", JSON numbers are printed as Perl
// prints them, and arrays sent for "-list" parameters are joined with ",".
type Values map[string]string

// Has reports whether a parameter was given.
func (v Values) Has(key string) bool {
	_, ok := v[key]
	return ok
}

// Bool reads a validated boolean parameter; absent is false.
func (v Values) Bool(key string) bool { return v[key] == "1" }

// valueKind is what Perl's ref() would say about a decoded parameter.
type valueKind int

const (
	kindUndef  valueKind = iota // absent or JSON null
	kindScalar                  // a string or number
	kindBool                    // JSON true/false (JSON::PP::Boolean)
	kindArray                   // a repeated form key or a JSON array
	kindHash                    // a JSON object
)

// value is one request parameter: its kind, its text for scalars and
// booleans ("1"/"0"), and the texts of an array's elements.
type value struct {
	kind  valueKind
	text  string
	items []string
}

// refName is how PVE's type check names a reference it did not expect.
func (v value) refName() string {
	switch v.kind {
	case kindBool:
		return "JSON::PP::Boolean"
	case kindArray:
		return "ARRAY"
	case kindHash:
		return "HASH"
	}
	return ""
}

// newValue classifies a raw parameter as the server passes it: string
// (form/query), []string (repeated form key) or a JSON-decoded value.
func newValue(raw any) value {
	switch x := raw.(type) {
	case nil:
		return value{kind: kindUndef}
	case string:
		return value{kind: kindScalar, text: x}
	case bool:
		return value{kind: kindBool, text: boolText(x)}
	case []string:
		return value{kind: kindArray, items: x}
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			items[i] = perlString(e)
		}
		return value{kind: kindArray, items: items}
	case map[string]any:
		return value{kind: kindHash}
	default:
		return value{kind: kindScalar, text: perlString(raw)}
	}
}

func boolText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// perlString prints a decoded JSON value the way Perl stringifies it.
func perlString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return boolText(x)
	case json.Number:
		return perlNumberText(string(x))
	case float64:
		return perlFloat(x)
	case float32:
		return perlFloat(float64(x))
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case []any:
		return "ARRAY"
	case map[string]any:
		return "HASH"
	default:
		return fmt.Sprint(x)
	}
}

// perlNumberText prints a JSON number literal as Perl does after decoding:
// integers stay as written, everything else goes through a double.
func perlNumberText(s string) string {
	if isJSONInteger(s) {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return perlFloat(f)
}

func isJSONInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// perlFloat prints a double like Perl's default "%.15g".
func perlFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}

// FormParams turns decoded form or query values into Validate's input: a
// single value as a string, a repeated key as []string (which PVE treats as
// an array).
func FormParams(form url.Values) map[string]any {
	params := make(map[string]any, len(form))
	for k, vs := range form {
		switch len(vs) {
		case 0:
		case 1:
			params[k] = vs[0]
		default:
			params[k] = append([]string(nil), vs...)
		}
	}
	return params
}

package pveapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// PVE's JSON typing is loose (Perl): integers arrive as strings
// (/cluster/nextid answers "100"), booleans as 0/1, strings sometimes as
// numbers. decodeLoose reads JSON into plain Go types and accepts all of
// these spellings, so the typed endpoint structs stay ordinary Go structs.
// Types implementing json.Unmarshaler decode themselves.

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
)

// decodeLoose decodes data into the value v points to.
func decodeLoose(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode: need a non-nil pointer, got %T", v)
	}
	return decodeValue(bytes.TrimSpace(data), rv.Elem(), "data")
}

func decodeValue(data []byte, v reflect.Value, where string) error {
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		u, _ := v.Addr().Interface().(json.Unmarshaler)
		if err := u.UnmarshalJSON(data); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		return nil
	}
	if v.Type() == rawMessageType {
		v.SetBytes(bytes.Clone(data))
		return nil
	}
	isNull := len(data) == 0 || string(data) == "null"
	switch v.Kind() {
	case reflect.Pointer:
		if isNull {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeValue(data, v.Elem(), where)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return fmt.Errorf("%s: cannot decode into %s", where, v.Type())
		}
		var x any
		if err := json.Unmarshal(data, &x); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if x == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}
	if isNull {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return decodeStruct(data, v, where)
	case reflect.Slice:
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return fmt.Errorf("%s: expected an array: %w", where, err)
		}
		out := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeValue(item, out.Index(i), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%s: map keys must be strings", where)
		}
		var items map[string]json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return fmt.Errorf("%s: expected an object: %w", where, err)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(items))
		for k, item := range items {
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(item, elem, where+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), elem)
		}
		v.Set(out)
		return nil
	case reflect.String:
		s, err := looseString(data)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, err := looseBool(data)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := looseInt(data)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if v.OverflowInt(n) {
			return fmt.Errorf("%s: %d overflows %s", where, n, v.Type())
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := looseInt(data)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if n < 0 || v.OverflowUint(uint64(n)) {
			return fmt.Errorf("%s: %d does not fit %s", where, n, v.Type())
		}
		v.SetUint(uint64(n))
		return nil
	case reflect.Float32, reflect.Float64:
		f, err := looseFloat(data)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("%s: cannot decode into %s", where, v.Type())
}

func decodeStruct(data []byte, v reflect.Value, where string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("%s: expected an object: %w", where, err)
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			tagName, _, _ := strings.Cut(tag, ",")
			if tagName == "-" {
				continue
			}
			if tagName != "" {
				name = tagName
			}
		}
		raw, ok := fields[name]
		if !ok {
			continue
		}
		if err := decodeValue(raw, v.Field(i), where+"."+name); err != nil {
			return err
		}
	}
	return nil
}

// looseString accepts a string, or a number or boolean as its text (booleans
// as PVE writes them: 1/0).
func looseString(data []byte) (string, error) {
	switch data[0] {
	case '"':
		var s string
		err := json.Unmarshal(data, &s)
		return s, err
	case 't':
		return "1", nil
	case 'f':
		return "0", nil
	case '{', '[':
		return "", fmt.Errorf("expected a string, got %s", jsonKind(data))
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

func looseBool(data []byte) (bool, error) {
	s, err := looseString(data)
	if err != nil {
		return false, err
	}
	if s == "" {
		return false, nil
	}
	b, ok := pveformat.ParseBool(s)
	if !ok {
		return false, fmt.Errorf("expected a boolean, got %q", s)
	}
	return b, nil
}

func looseInt(data []byte) (int64, error) {
	s, err := looseString(data)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt64 {
		return 0, fmt.Errorf("expected an integer, got %q", s)
	}
	return int64(f), nil
}

func looseFloat(data []byte) (float64, error) {
	s, err := looseString(data)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("expected a number, got %q", s)
	}
	return f, nil
}

func jsonKind(data []byte) string {
	switch data[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "a scalar"
}

package templatedir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// In Terraform a spec travels as one JSON document (a string attribute):
// Terraform and the plugin framework then handle a template-built container
// about as cheaply as a plain one, and a plan still shows a changed script
// field by field, as Terraform renders changes inside JSON strings. The
// document's names are the json tags of Spec.

// JSON encodes the spec compactly (Compact) as one line of JSON, the same
// bytes for the same spec.
func (s Spec) JSON() (string, error) {
	data, err := json.Marshal(s.Compact())
	return string(data), err
}

// ParseJSON reads a spec from its JSON document. Unknown names are errors
// (a misspelt "script" would otherwise be dropped in silence), a script
// without "enabled" is enabled, and a value of the wrong type names its
// place in the document.
func ParseJSON(doc string) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, specJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Spec{}, errors.New("the spec is followed by more JSON; give one object")
	}
	return s, nil
}

// specJSONError words a decoding error for people.
func specJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Errorf("%s must be a %s, not a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("the spec must be a JSON object, not a JSON %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("the spec is not valid JSON at byte %d: %w", syntaxErr.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the spec is not valid JSON: it ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("the spec has no attribute %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return err
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int64":
		return "whole number"
	case "slice":
		return "list"
	case "struct":
		return "object"
	}
	return goKind
}

// UnmarshalJSON reads a script; "enabled" defaults to true.
func (sc *Script) UnmarshalJSON(data []byte) error {
	type plain Script
	decoded := plain{Enabled: true}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&decoded); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			typeErr.Field = "scripts." + typeErr.Field
		}
		return err
	}
	*sc = Script(decoded)
	return nil
}

package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// known reports whether v is neither null nor unknown.
func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

// knownOnly replaces every unknown value with null, so that a partial
// result can be saved as state.
func knownOnly(v tftypes.Value) (tftypes.Value, error) {
	return tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
}

func ptr[T any](v T) *T { return &v }

// objectTypeOf derives a nested object's type from its schema attributes, so
// a block's model, schema and attribute types cannot drift apart.
func objectTypeOf(attrs map[string]schema.Attribute) types.ObjectType {
	t := types.ObjectType{AttrTypes: make(map[string]attr.Type, len(attrs))}
	for name, a := range attrs {
		t.AttrTypes[name] = a.GetType()
	}
	return t
}

// nullableString is null for "" (a key PVE does not have).
func nullableString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// nullableInt is null for 0 or less (unset in PVE's terms).
func nullableInt(v int64) types.Int64 {
	if v <= 0 {
		return types.Int64Null()
	}
	return types.Int64Value(v)
}

// nullableFloat is null for 0 or less (unset in PVE's terms).
func nullableFloat(v float64) types.Float64 {
	if v <= 0 {
		return types.Float64Null()
	}
	return types.Float64Value(v)
}

// unsetInt is null for a negative value, lxcconf's "unset" for counters
// where 0 is meaningful.
func unsetInt(v int64) types.Int64 {
	if v < 0 {
		return types.Int64Null()
	}
	return types.Int64Value(v)
}

// int64OrUnset is unsetInt's inverse.
func int64OrUnset(v types.Int64) int64 {
	if !known(v) {
		return -1
	}
	return v.ValueInt64()
}

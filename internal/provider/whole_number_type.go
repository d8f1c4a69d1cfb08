package provider

import (
	"context"
	"fmt"
	"math"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// wholeNumberType is the type of every integer attribute the configuration
// sets. It is the framework's Int64Type, except for a number that is not a
// whole number fitting 64 bits (memory = 512.5, disk count = 1e30). The
// framework's type cannot convert such a number, and its conversion error
// (fmt's "%s" of a *big.Float: "Value %!s(*big.Float=512.5) is not an
// integer.") reaches the user as a "Configuration Read Error" that calls
// itself a provider bug. This type keeps the number instead, as a
// notWholeNumber value, whose validation names the attribute and the
// number. Whole numbers convert to plain types.Int64 values, so models keep
// their types.Int64 fields.
type wholeNumberType struct {
	basetypes.Int64Type
}

var _ basetypes.Int64Typable = wholeNumberType{}

// wholeNumber is the CustomType of an integer attribute.
func wholeNumber() wholeNumberType { return wholeNumberType{} }

// Equal accepts the framework's Int64Type too: the values of this type are
// types.Int64 values, which report that type.
func (t wholeNumberType) Equal(o attr.Type) bool {
	switch o.(type) {
	case wholeNumberType, basetypes.Int64Type:
		return true
	}
	return false
}

func (t wholeNumberType) String() string { return "provider.wholeNumberType" }

// ValueFromTerraform converts a whole number to types.Int64 and keeps any
// other number as a notWholeNumber, for validation to report.
func (t wholeNumberType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	if !in.IsKnown() || in.IsNull() || !in.Type().Is(tftypes.Number) {
		return t.Int64Type.ValueFromTerraform(ctx, in)
	}
	var n *big.Float
	if err := in.As(&n); err != nil {
		return nil, err
	}
	if n.IsInt() {
		if i, accuracy := n.Int64(); accuracy == big.Exact {
			return basetypes.NewInt64Value(i), nil
		}
	}
	return notWholeNumber{number: n}, nil
}

// notWholeNumber is a configured number an integer attribute cannot take:
// it has a fraction, or it does not fit 64 bits. It exists only between
// reading the configuration and validating it, which always fails.
type notWholeNumber struct {
	number *big.Float
}

var _ xattr.ValidateableAttribute = notWholeNumber{}

func (v notWholeNumber) Type(context.Context) attr.Type { return wholeNumberType{} }

func (v notWholeNumber) ToTerraformValue(context.Context) (tftypes.Value, error) {
	return tftypes.NewValue(tftypes.Number, v.number), nil
}

func (v notWholeNumber) Equal(o attr.Value) bool {
	w, ok := o.(notWholeNumber)
	return ok && w.number.Cmp(v.number) == 0
}

func (v notWholeNumber) IsNull() bool    { return false }
func (v notWholeNumber) IsUnknown() bool { return false }
func (v notWholeNumber) String() string  { return v.number.Text('g', -1) }

// ValidateAttribute reports the number, naming the attribute.
func (v notWholeNumber) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if !v.number.IsInt() {
		whole, _ := v.number.Int(nil) // towards zero
		resp.Diagnostics.AddAttributeError(req.Path, "Not a Whole Number", fmt.Sprintf(
			"%s must be a whole number, and %s has a fraction. Write it without one (e.g. %s).", req.Path, v, whole))
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Number Out of Range", fmt.Sprintf(
		"%s = %s does not fit a 64-bit integer (%d to %d), and the attribute's own limits are narrower still.",
		req.Path, v.number.Text('f', 0), int64(math.MinInt64), int64(math.MaxInt64)))
}

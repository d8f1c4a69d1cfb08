package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Proxmox VE rewrites some values on the way through its config file (tags
// lower-cased and sorted, description lines re-terminated). These custom
// types compare such values the way PVE treats them, so what the user wrote
// and what PVE returns never show as a difference — the framework's
// semantic equality keeps the user's spelling in state.

// stringNormalizer names one way of comparing strings.
type stringNormalizer string

const (
	normalizeDescriptionText stringNormalizer = "description"
	normalizeOSTemplate      stringNormalizer = "os_template"
)

func (n stringNormalizer) equal(a, b string) bool {
	switch n {
	case normalizeDescriptionText:
		return lxcconf.NormalizeDescription(a) == lxcconf.NormalizeDescription(b)
	case normalizeOSTemplate:
		return sameOSTemplate(a, b)
	}
	return a == b
}

// normalizedStringType is a string type whose values compare by a
// stringNormalizer.
type normalizedStringType struct {
	basetypes.StringType
	normalizer stringNormalizer
}

var (
	_ basetypes.StringTypable                    = normalizedStringType{}
	_ basetypes.StringValuableWithSemanticEquals = normalizedStringValue{}
)

func (t normalizedStringType) Equal(o attr.Type) bool {
	other, ok := o.(normalizedStringType)
	return ok && other.normalizer == t.normalizer
}

func (t normalizedStringType) String() string {
	return "normalizedStringType[" + string(t.normalizer) + "]"
}

func (t normalizedStringType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return normalizedStringValue{StringValue: in, normalizer: t.normalizer}, nil
}

func (t normalizedStringType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	sv, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return normalizedStringValue{StringValue: sv, normalizer: t.normalizer}, nil
}

func (t normalizedStringType) ValueType(context.Context) attr.Value {
	return normalizedStringValue{normalizer: t.normalizer}
}

// normalizedStringValue is a value of normalizedStringType.
type normalizedStringValue struct {
	basetypes.StringValue
	normalizer stringNormalizer
}

func newNormalizedString(n stringNormalizer, s string) normalizedStringValue {
	return normalizedStringValue{StringValue: types.StringValue(s), normalizer: n}
}

func unknownNormalizedString(n stringNormalizer) normalizedStringValue {
	return normalizedStringValue{StringValue: types.StringUnknown(), normalizer: n}
}

func nullNormalizedString(n stringNormalizer) normalizedStringValue {
	return normalizedStringValue{StringValue: types.StringNull(), normalizer: n}
}

func (v normalizedStringValue) Equal(o attr.Value) bool {
	other, ok := o.(normalizedStringValue)
	return ok && other.normalizer == v.normalizer && v.StringValue.Equal(other.StringValue)
}

func (v normalizedStringValue) Type(context.Context) attr.Type {
	return normalizedStringType{normalizer: v.normalizer}
}

func (v normalizedStringValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := newValuable.(normalizedStringValue)
	if !ok {
		return false, nil
	}
	return v.normalizer.equal(v.ValueString(), other.ValueString()), nil
}

// sameOSTemplate says whether two OS image references name the same image:
// equal strings; a URL and a file, volid or URL of the same file name (a
// node stores a download under its file name); or an appliance name
// ("debian-12-standard") and a file or volid of that appliance
// ("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst").
func sameOSTemplate(a, b string) bool {
	if a == b {
		return true
	}
	fileA, fileB := pveapi.OSImageFile(a), pveapi.OSImageFile(b)
	if (pveapi.IsImageURL(a) || pveapi.IsImageURL(b)) && fileA != "" && fileB != "" {
		return fileA == fileB
	}
	return applianceOf(a) != "" && applianceOf(a) == applianceOf(b)
}

// applianceOf reduces an OS image reference to its appliance name: the part
// of the file name before the first "_" ("debian-12-standard").
func applianceOf(ref string) string {
	if _, file, ok := strings.Cut(ref, ":"); ok {
		ref = file
	}
	ref = ref[strings.LastIndex(ref, "/")+1:]
	name, _, _ := strings.Cut(ref, "_")
	return name
}

// tagSetType is a set of tags that compares as PVE stores tags:
// lower-cased, without duplicates, in any order.
type tagSetType struct {
	basetypes.SetType
}

var (
	_ basetypes.SetTypable                    = tagSetType{}
	_ basetypes.SetValuableWithSemanticEquals = tagSetValue{}
)

func newTagSetType() tagSetType {
	return tagSetType{SetType: basetypes.SetType{ElemType: types.StringType}}
}

func (t tagSetType) Equal(o attr.Type) bool {
	_, ok := o.(tagSetType)
	return ok
}

func (t tagSetType) String() string { return "tagSetType" }

func (t tagSetType) ValueFromSet(_ context.Context, in basetypes.SetValue) (basetypes.SetValuable, diag.Diagnostics) {
	return tagSetValue{SetValue: in}, nil
}

func (t tagSetType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.SetType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	sv, ok := v.(basetypes.SetValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return tagSetValue{SetValue: sv}, nil
}

func (t tagSetType) ValueType(context.Context) attr.Value { return tagSetValue{} }

// tagSetValue is a value of tagSetType.
type tagSetValue struct {
	basetypes.SetValue
}

func newTagSet(tags []string) tagSetValue {
	elems := make([]attr.Value, 0, len(tags))
	for _, t := range tags {
		elems = append(elems, types.StringValue(t))
	}
	return tagSetValue{SetValue: basetypes.NewSetValueMust(types.StringType, elems)}
}

func (v tagSetValue) Equal(o attr.Value) bool {
	other, ok := o.(tagSetValue)
	return ok && v.SetValue.Equal(other.SetValue)
}

func (v tagSetValue) Type(context.Context) attr.Type { return newTagSetType() }

// tags returns the set's tags normalised as PVE stores them.
func (v tagSetValue) tags() []string {
	var out []string
	for _, e := range v.Elements() {
		if s, ok := e.(basetypes.StringValue); ok {
			out = append(out, s.ValueString())
		}
	}
	return pveformat.NormalizeTags(out)
}

func (v tagSetValue) SetSemanticEquals(_ context.Context, newValuable basetypes.SetValuable) (bool, diag.Diagnostics) {
	other, ok := newValuable.(tagSetValue)
	if !ok || v.IsNull() != other.IsNull() || v.IsUnknown() || other.IsUnknown() {
		return false, nil
	}
	return slices.Equal(v.tags(), other.tags()), nil
}

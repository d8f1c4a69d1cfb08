package provider

import (
	"context"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The model codec converts a resource model to and from its Terraform value
// for the requests every resource of a plan makes (ModifyPlan, Read). The
// framework's Get and Set do the same by reflection, and they look up each
// field's tfsdk tag anew on every call, compiling a regular expression per
// field to check it: for pve_lxc_container's model, about a tenth of the
// provider's CPU in a no-change plan. The codec learns a model type's fields
// once.
//
// It handles the models this provider has: every field an attr.Value, or a
// pointer to such a struct for a single nested block. For anything else (a
// field of another kind, a value that validates itself, such as a number
// that is not whole, an unknown block, a type mismatch) it leaves the work
// to the framework's Get and Set, so results and diagnostics stay theirs.

// getConfig is req.Config.Get(ctx, target) without per-call reflection.
func getConfig(ctx context.Context, c tfsdk.Config, target any) diag.Diagnostics {
	if decodeModel(ctx, c.Raw, c.Schema.Type(), target) {
		return nil
	}
	return c.Get(ctx, target)
}

// getPlan is req.Plan.Get(ctx, target) without per-call reflection.
func getPlan(ctx context.Context, p tfsdk.Plan, target any) diag.Diagnostics {
	if decodeModel(ctx, p.Raw, p.Schema.Type(), target) {
		return nil
	}
	return p.Get(ctx, target)
}

// getState is req.State.Get(ctx, target) without per-call reflection.
func getState(ctx context.Context, s tfsdk.State, target any) diag.Diagnostics {
	if decodeModel(ctx, s.Raw, s.Schema.Type(), target) {
		return nil
	}
	return s.Get(ctx, target)
}

// setPlan is resp.Plan.Set(ctx, model) without per-call reflection.
func setPlan(ctx context.Context, p *tfsdk.Plan, model any) diag.Diagnostics {
	if v, ok := encodeModel(ctx, p.Schema.Type(), model); ok {
		p.Raw = v
		return nil
	}
	return p.Set(ctx, model)
}

// setState is resp.State.Set(ctx, model) without per-call reflection.
func setState(ctx context.Context, s *tfsdk.State, model any) diag.Diagnostics {
	if v, ok := encodeModel(ctx, s.Schema.Type(), model); ok {
		s.Raw = v
		return nil
	}
	return s.Set(ctx, model)
}

// modelField is one field of a model: its index, its attribute name and,
// for a block, the layout of the struct the pointer points to.
type modelField struct {
	index int
	name  string
	block *modelLayout
}

// modelLayout is what the codec learned about a model struct type; nil
// when the codec cannot handle the type.
type modelLayout struct {
	fields []modelField
}

var (
	modelLayouts   sync.Map // reflect.Type → *modelLayout (nil: not supported)
	attrValueIface = reflect.TypeFor[attr.Value]()
)

// layoutOf returns the layout of struct type t, learning it on first use.
func layoutOf(t reflect.Type) *modelLayout {
	if l, ok := modelLayouts.Load(t); ok {
		layout, _ := l.(*modelLayout) // only *modelLayout values are stored
		return layout
	}
	l := learnLayout(t)
	modelLayouts.Store(t, l)
	return l
}

func learnLayout(t reflect.Type) *modelLayout {
	if t.Kind() != reflect.Struct {
		return nil
	}
	l := &modelLayout{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := f.Tag.Lookup("tfsdk")
		switch {
		case !ok || name == "-" || !f.IsExported():
			return nil // the framework's rules for these stay the framework's
		case f.Type.Implements(attrValueIface):
			l.fields = append(l.fields, modelField{index: i, name: name})
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			block := layoutOf(f.Type.Elem())
			if block == nil {
				return nil
			}
			l.fields = append(l.fields, modelField{index: i, name: name, block: block})
		default:
			return nil
		}
	}
	return l
}

// objectTypes returns an object type's attribute types.
func objectTypes(t attr.Type) (map[string]attr.Type, bool) {
	o, ok := t.(attr.TypeWithAttributeTypes)
	if !ok {
		return nil, false
	}
	return o.AttributeTypes(), true
}

// decodeModel fills the struct target points to from raw, an object of
// type typ. It reports false, having possibly changed target, when it
// leaves the work to the framework.
func decodeModel(ctx context.Context, raw tftypes.Value, typ attr.Type, target any) bool {
	ptr := reflect.ValueOf(target)
	if ptr.Kind() != reflect.Pointer || ptr.IsNil() {
		return false
	}
	l := layoutOf(ptr.Elem().Type())
	if l == nil {
		return false
	}
	return l.decode(ctx, raw, typ, ptr.Elem())
}

func (l *modelLayout) decode(ctx context.Context, raw tftypes.Value, typ attr.Type, dst reflect.Value) bool {
	types, ok := objectTypes(typ)
	if !ok || !raw.IsKnown() || raw.IsNull() || len(types) != len(l.fields) {
		return false
	}
	var values map[string]tftypes.Value
	if err := raw.As(&values); err != nil || len(values) != len(l.fields) {
		return false
	}
	for _, f := range l.fields {
		t, ok := types[f.name]
		if !ok {
			return false
		}
		v, ok := values[f.name]
		if !ok || !l.decodeField(ctx, f, t, v, dst.Field(f.index)) {
			return false
		}
	}
	return true
}

func (l *modelLayout) decodeField(ctx context.Context, f modelField, t attr.Type, v tftypes.Value, dst reflect.Value) bool {
	if f.block != nil {
		switch {
		case !v.IsKnown():
			return false
		case v.IsNull():
			dst.SetZero()
			return true
		}
		block := reflect.New(dst.Type().Elem())
		if !f.block.decode(ctx, v, t, block.Elem()) {
			return false
		}
		dst.Set(block)
		return true
	}
	if !typeAccepts(ctx, t, v, f.name) {
		return false
	}
	value, err := t.ValueFromTerraform(ctx, v)
	if err != nil || value == nil || reflect.TypeOf(value) != dst.Type() {
		return false
	}
	if _, validates := value.(xattr.ValidateableAttribute); validates {
		return false
	}
	dst.Set(reflect.ValueOf(value))
	return true
}

// encodeModel returns model (a struct or a pointer to one) as a value of
// object type typ; false when it leaves the work to the framework.
func encodeModel(ctx context.Context, typ attr.Type, model any) (tftypes.Value, bool) {
	src := reflect.ValueOf(model)
	if src.Kind() == reflect.Pointer {
		if src.IsNil() {
			return tftypes.Value{}, false
		}
		src = src.Elem()
	}
	l := layoutOf(src.Type())
	if l == nil {
		return tftypes.Value{}, false
	}
	return l.encode(ctx, typ, src)
}

func (l *modelLayout) encode(ctx context.Context, typ attr.Type, src reflect.Value) (tftypes.Value, bool) {
	types, ok := objectTypes(typ)
	if !ok || len(types) != len(l.fields) {
		return tftypes.Value{}, false
	}
	values := make(map[string]tftypes.Value, len(l.fields))
	for _, f := range l.fields {
		t, ok := types[f.name]
		if !ok {
			return tftypes.Value{}, false
		}
		v, ok := l.encodeField(ctx, f, t, src.Field(f.index))
		if !ok {
			return tftypes.Value{}, false
		}
		values[f.name] = v
	}
	tfType := typ.TerraformType(ctx)
	if err := tftypes.ValidateValue(tfType, values); err != nil {
		return tftypes.Value{}, false
	}
	return tftypes.NewValue(tfType, values), true
}

func (l *modelLayout) encodeField(ctx context.Context, f modelField, t attr.Type, field reflect.Value) (tftypes.Value, bool) {
	if f.block != nil {
		if field.IsNil() {
			return tftypes.NewValue(t.TerraformType(ctx), nil), true
		}
		return f.block.encode(ctx, t, field.Elem())
	}
	value, ok := field.Interface().(attr.Value)
	if !ok || value == nil {
		return tftypes.Value{}, false
	}
	if _, validates := value.(xattr.ValidateableAttribute); validates {
		return tftypes.Value{}, false
	}
	v, err := value.ToTerraformValue(ctx)
	return v, err == nil && typeAccepts(ctx, t, v, f.name)
}

// typeAccepts runs the validation the framework's Get and Set run for a
// type that validates values (the framework's number and collection types
// do); a value it rejects is left to the framework to report.
func typeAccepts(ctx context.Context, t attr.Type, v tftypes.Value, name string) bool {
	//nolint:staticcheck // xattr.TypeWithValidate is deprecated, but the framework still calls it
	if tv, ok := t.(xattr.TypeWithValidate); ok {
		return !tv.Validate(ctx, v, path.Root(name)).HasError()
	}
	return true
}

package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// defaultsModel is a spec's defaults as pve_lxc_template's overrides take
// them.
type defaultsModel struct {
	Cores        types.Int64    `tfsdk:"cores"`
	Memory       types.Int64    `tfsdk:"memory"`
	Swap         types.Int64    `tfsdk:"swap"`
	DiskSize     types.Int64    `tfsdk:"disk_size"`
	Storage      types.String   `tfsdk:"storage"`
	Bridge       types.String   `tfsdk:"bridge"`
	Unprivileged types.Bool     `tfsdk:"unprivileged"`
	Features     *featuresModel `tfsdk:"features"`
}

type featuresModel struct {
	Nesting types.Bool `tfsdk:"nesting"`
	Keyctl  types.Bool `tfsdk:"keyctl"`
	Fuse    types.Bool `tfsdk:"fuse"`
}

// packageModel is one package row, as pve_package_bucket exports and
// pve_lxc_template takes them.
type packageModel struct {
	Bucket  types.String `tfsdk:"bucket"`
	Manager types.String `tfsdk:"manager"`
	Spec    types.String `tfsdk:"spec"`
	Name    types.String `tfsdk:"name"`
	Version types.String `tfsdk:"version"`
	Check   types.String `tfsdk:"check"`
	Install types.String `tfsdk:"install"`
	Timeout types.Int64  `tfsdk:"timeout"`
}

func attrTypesOf(fields []specField) map[string]attr.Type {
	out := make(map[string]attr.Type, len(fields))
	for _, f := range fields {
		switch f.kind {
		case specString:
			out[f.name] = types.StringType
		case specInt:
			out[f.name] = types.Int64Type
		case specBool:
			out[f.name] = types.BoolType
		case specStringList:
			out[f.name] = types.ListType{ElemType: types.StringType}
		case specNested:
			out[f.name] = types.ObjectType{AttrTypes: attrTypesOf(f.children)}
		case specObjectList:
			out[f.name] = types.ListType{ElemType: types.ObjectType{AttrTypes: attrTypesOf(f.children)}}
		}
	}
	return out
}

func newPackageModel(p templatedir.Package) packageModel {
	return packageModel{
		Bucket: types.StringValue(p.Bucket), Manager: types.StringValue(p.Manager), Spec: types.StringValue(p.Spec),
		Name: types.StringValue(p.Name), Version: types.StringValue(p.Version), Check: types.StringValue(p.Check),
		Install: types.StringValue(p.Install), Timeout: types.Int64Value(p.Timeout),
	}
}

func packageFromModel(p packageModel) templatedir.Package {
	return templatedir.Package{
		Bucket: p.Bucket.ValueString(), Manager: p.Manager.ValueString(), Spec: p.Spec.ValueString(),
		Name: p.Name.ValueString(), Version: p.Version.ValueString(), Check: p.Check.ValueString(),
		Install: p.Install.ValueString(), Timeout: p.Timeout.ValueInt64(),
	}
}

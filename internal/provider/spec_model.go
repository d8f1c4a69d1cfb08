package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// specModel is the Terraform form of templatedir.Spec; its tfsdk tags are
// the names in specFields.
type specModel struct {
	Name        types.String   `tfsdk:"name"`
	AppName     types.String   `tfsdk:"app_name"`
	Description types.String   `tfsdk:"description"`
	Tags        []types.String `tfsdk:"tags"`
	OSTemplate  types.String   `tfsdk:"os_template"`
	ConfigPath  types.String   `tfsdk:"config_path"`
	Source      types.String   `tfsdk:"source"`
	Defaults    *defaultsModel `tfsdk:"defaults"`
	Scripts     []scriptModel  `tfsdk:"scripts"`
	Packages    []packageModel `tfsdk:"packages"`
	Files       []fileModel    `tfsdk:"files"`
	SHA256      types.String   `tfsdk:"sha256"`
}

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

type scriptModel struct {
	Name    types.String `tfsdk:"name"`
	Order   types.Int64  `tfsdk:"order"`
	Content types.String `tfsdk:"content"`
	SHA256  types.String `tfsdk:"sha256"`
	Enabled types.Bool   `tfsdk:"enabled"`
}

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

type fileModel struct {
	Name          types.String `tfsdk:"name"`
	TargetPath    types.String `tfsdk:"target_path"`
	Policy        types.String `tfsdk:"policy"`
	Mode          types.String `tfsdk:"mode"`
	Content       types.String `tfsdk:"content"`
	ContentBase64 types.String `tfsdk:"content_base64"`
	SHA256        types.String `tfsdk:"sha256"`
}

// specObjectType is the object type of a spec attribute, derived from
// specFields so it cannot drift from the schemas.
func specObjectType() types.ObjectType {
	return types.ObjectType{AttrTypes: attrTypesOf(specFields)}
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

// newSpecModel converts a spec into its Terraform form: compact (digests,
// no content) when it has a source directory to read the content from at
// apply, with its content when it has none.
func newSpecModel(s templatedir.Spec) specModel {
	s = s.Compact()
	content := types.StringValue
	if s.Source != "" {
		content = func(string) types.String { return types.StringNull() }
	}
	m := specModel{
		Name:        types.StringValue(s.Name),
		AppName:     types.StringValue(s.AppName),
		Description: types.StringValue(s.Description),
		Tags:        stringValues(s.Tags),
		OSTemplate:  types.StringValue(s.OSTemplate),
		ConfigPath:  types.StringValue(s.ConfigPath),
		Source:      types.StringValue(s.Source),
		Defaults: &defaultsModel{
			Cores:        types.Int64Value(s.Defaults.Cores),
			Memory:       types.Int64Value(s.Defaults.Memory),
			Swap:         types.Int64Value(s.Defaults.Swap),
			DiskSize:     types.Int64Value(s.Defaults.DiskSize),
			Storage:      types.StringValue(s.Defaults.Storage),
			Bridge:       types.StringValue(s.Defaults.Bridge),
			Unprivileged: types.BoolValue(s.Defaults.Unprivileged),
			Features: &featuresModel{
				Nesting: types.BoolValue(s.Defaults.Features.Nesting),
				Keyctl:  types.BoolValue(s.Defaults.Features.Keyctl),
				Fuse:    types.BoolValue(s.Defaults.Features.Fuse),
			},
		},
		Scripts:  make([]scriptModel, 0, len(s.Scripts)),
		Packages: make([]packageModel, 0, len(s.Packages)),
		Files:    make([]fileModel, 0, len(s.Files)),
		SHA256:   types.StringValue(s.SHA256),
	}
	for _, sc := range s.Scripts {
		m.Scripts = append(m.Scripts, scriptModel{
			Name: types.StringValue(sc.Name), Order: types.Int64Value(sc.Order), Content: content(sc.Content),
			SHA256: types.StringValue(sc.SHA256), Enabled: types.BoolValue(sc.Enabled),
		})
	}
	for _, p := range s.Packages {
		m.Packages = append(m.Packages, newPackageModel(p))
	}
	for _, f := range s.Files {
		m.Files = append(m.Files, fileModel{
			Name: types.StringValue(f.Name), TargetPath: types.StringValue(f.TargetPath), Policy: types.StringValue(f.Policy),
			Mode: types.StringValue(f.Mode), Content: content(f.Content), ContentBase64: content(f.ContentBase64),
			SHA256: types.StringValue(f.SHA256),
		})
	}
	return m
}

func newPackageModel(p templatedir.Package) packageModel {
	return packageModel{
		Bucket: types.StringValue(p.Bucket), Manager: types.StringValue(p.Manager), Spec: types.StringValue(p.Spec),
		Name: types.StringValue(p.Name), Version: types.StringValue(p.Version), Check: types.StringValue(p.Check),
		Install: types.StringValue(p.Install), Timeout: types.Int64Value(p.Timeout),
	}
}

// specObject converts a spec into an object value of specObjectType.
func specObject(ctx context.Context, s templatedir.Spec) (types.Object, diag.Diagnostics) {
	return types.ObjectValueFrom(ctx, specObjectType().AttrTypes, newSpecModel(s))
}

// specFromObject reads a spec object (from discovery, pve_lxc_template or an
// inline value) back into the domain type. Absent values read as zero
// values; the caller validates and digests the result.
func specFromObject(ctx context.Context, obj basetypes.ObjectValue) (templatedir.Spec, diag.Diagnostics) {
	var m specModel
	diags := obj.As(ctx, &m, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})
	if diags.HasError() {
		return templatedir.Spec{}, diags
	}
	s := templatedir.Spec{
		Name:        m.Name.ValueString(),
		AppName:     m.AppName.ValueString(),
		Description: m.Description.ValueString(),
		Tags:        stringsOf(m.Tags),
		OSTemplate:  m.OSTemplate.ValueString(),
		ConfigPath:  m.ConfigPath.ValueString(),
		Source:      m.Source.ValueString(),
		SHA256:      m.SHA256.ValueString(),
	}
	if d := m.Defaults; d != nil {
		s.Defaults = templatedir.Defaults{
			Cores: d.Cores.ValueInt64(), Memory: d.Memory.ValueInt64(), Swap: d.Swap.ValueInt64(), DiskSize: d.DiskSize.ValueInt64(),
			Storage: d.Storage.ValueString(), Bridge: d.Bridge.ValueString(), Unprivileged: d.Unprivileged.ValueBool(),
		}
		if f := d.Features; f != nil {
			s.Defaults.Features = templatedir.Features{Nesting: f.Nesting.ValueBool(), Keyctl: f.Keyctl.ValueBool(), Fuse: f.Fuse.ValueBool()}
		}
	}
	for _, sc := range m.Scripts {
		s.Scripts = append(s.Scripts, templatedir.Script{
			Name: sc.Name.ValueString(), Order: sc.Order.ValueInt64(), Content: sc.Content.ValueString(),
			SHA256: sc.SHA256.ValueString(), Enabled: sc.Enabled.ValueBool(),
		})
	}
	for _, p := range m.Packages {
		s.Packages = append(s.Packages, packageFromModel(p))
	}
	for _, f := range m.Files {
		s.Files = append(s.Files, templatedir.File{
			Name: f.Name.ValueString(), TargetPath: f.TargetPath.ValueString(), Policy: f.Policy.ValueString(),
			Mode: f.Mode.ValueString(), Content: f.Content.ValueString(), ContentBase64: f.ContentBase64.ValueString(),
			SHA256: f.SHA256.ValueString(),
		})
	}
	return s, diags
}

func packageFromModel(p packageModel) templatedir.Package {
	return templatedir.Package{
		Bucket: p.Bucket.ValueString(), Manager: p.Manager.ValueString(), Spec: p.Spec.ValueString(),
		Name: p.Name.ValueString(), Version: p.Version.ValueString(), Check: p.Check.ValueString(),
		Install: p.Install.ValueString(), Timeout: p.Timeout.ValueInt64(),
	}
}

func stringValues(in []string) []types.String {
	out := make([]types.String, 0, len(in))
	for _, s := range in {
		out = append(out, types.StringValue(s))
	}
	return out
}

func stringsOf(in []types.String) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, s.ValueString())
	}
	return out
}

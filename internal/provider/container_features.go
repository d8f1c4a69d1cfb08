package provider

import (
	"context"
	"regexp"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// The features block of pve_lxc_container: its schema, model, and
// conversion to and from lxcconf.Features.

var mountFSRE = regexp.MustCompile(`^[a-z0-9_.-]+$`)

func featuresAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "LXC feature flags. Default: the template's. Proxmox VE lets only " +
			"`root@pam` (password login, not an API token) set flags other than `nesting`, or any flag " +
			"on a privileged container; the provider reports that at plan time.",
		Optional:   true,
		Computed:   true,
		Attributes: featuresAttributes(),
	}
}

func featuresAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"nesting": schema.BoolAttribute{MarkdownDescription: "Allow nested containers.", Optional: true, Computed: true},
		"keyctl":  schema.BoolAttribute{MarkdownDescription: "Allow the keyctl() system call (Docker in unprivileged containers).", Optional: true, Computed: true},
		"fuse":    schema.BoolAttribute{MarkdownDescription: "Allow FUSE file systems.", Optional: true, Computed: true},
		"mknod":   schema.BoolAttribute{MarkdownDescription: "Allow mknod() of selected device nodes (experimental in PVE).", Optional: true, Computed: true},
		"mount": schema.SetAttribute{
			MarkdownDescription: "File system types the container may mount, e.g. `[\"nfs\", \"cifs\"]`.",
			Optional:            true,
			Computed:            true,
			ElementType:         types.StringType,
			Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(mountFSRE,
				"must be a file system type such as nfs or cifs"))},
		},
	}
}

var featuresObjectType = objectTypeOf(featuresAttributes())

type containerFeaturesModel struct {
	Nesting types.Bool `tfsdk:"nesting"`
	Keyctl  types.Bool `tfsdk:"keyctl"`
	Fuse    types.Bool `tfsdk:"fuse"`
	Mknod   types.Bool `tfsdk:"mknod"`
	Mount   types.Set  `tfsdk:"mount"`
}

// featuresModelOf reads the block; ok is false when it is null or unknown.
func featuresModelOf(ctx context.Context, obj types.Object, diags *diag.Diagnostics) (m containerFeaturesModel, ok bool) {
	if !known(obj) {
		return m, false
	}
	diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})...)
	return m, true
}

func featuresToLXC(ctx context.Context, obj types.Object, diags *diag.Diagnostics) lxcconf.Features {
	m, ok := featuresModelOf(ctx, obj, diags)
	if !ok {
		return lxcconf.Features{}
	}
	f := lxcconf.Features{Nesting: m.Nesting.ValueBool(), Keyctl: m.Keyctl.ValueBool(), Fuse: m.Fuse.ValueBool(), Mknod: m.Mknod.ValueBool()}
	if known(m.Mount) {
		diags.Append(m.Mount.ElementsAs(ctx, &f.Mount, false)...)
		slices.Sort(f.Mount)
	}
	return f
}

func featuresFromLXC(f lxcconf.Features) types.Object {
	mount := make([]attr.Value, 0, len(f.Mount))
	for _, fs := range f.Mount {
		mount = append(mount, types.StringValue(fs))
	}
	return types.ObjectValueMust(featuresObjectType.AttrTypes, map[string]attr.Value{
		"nesting": types.BoolValue(f.Nesting), "keyctl": types.BoolValue(f.Keyctl),
		"fuse": types.BoolValue(f.Fuse), "mknod": types.BoolValue(f.Mknod),
		"mount": types.SetValueMust(types.StringType, mount),
	})
}

// planFeatures merges each flag: configuration, template, state, off.
func (in planInputs) planFeatures(ctx context.Context, diags *diag.Diagnostics) types.Object {
	cfg, _ := featuresModelOf(ctx, in.config.Features, diags)
	var st *containerFeaturesModel
	if in.state != nil {
		if m, ok := featuresModelOf(ctx, in.state.Features, diags); ok {
			st = &m
		}
	}
	flag := func(c types.Bool, tmpl func(templatedir.Features) bool, s func(containerFeaturesModel) types.Bool) types.Bool {
		var prior types.Bool
		if st != nil {
			prior = s(*st)
		}
		return pick(types.BoolValue(false),
			configured(c),
			fromTemplate(in, types.BoolUnknown(), func(spec *templatedir.Spec) (types.Bool, bool) {
				if tmpl == nil {
					return types.Bool{}, false // a flag templates do not set
				}
				return types.BoolValue(tmpl(spec.Defaults.Features)), true
			}),
			when(st != nil, prior))
	}
	mount := cfg.Mount
	if mount.IsNull() {
		mount = types.SetValueMust(types.StringType, []attr.Value{})
		if st != nil {
			mount = st.Mount
		}
	}
	return types.ObjectValueMust(featuresObjectType.AttrTypes, map[string]attr.Value{
		"nesting": flag(cfg.Nesting, func(f templatedir.Features) bool { return f.Nesting }, func(m containerFeaturesModel) types.Bool { return m.Nesting }),
		"keyctl":  flag(cfg.Keyctl, func(f templatedir.Features) bool { return f.Keyctl }, func(m containerFeaturesModel) types.Bool { return m.Keyctl }),
		"fuse":    flag(cfg.Fuse, func(f templatedir.Features) bool { return f.Fuse }, func(m containerFeaturesModel) types.Bool { return m.Fuse }),
		"mknod":   flag(cfg.Mknod, nil, func(m containerFeaturesModel) types.Bool { return m.Mknod }),
		"mount":   mount,
	})
}

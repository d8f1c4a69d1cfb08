package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Built-in defaults, used when neither the configuration nor the template
// sets a value (they match what Proxmox VE itself would use).
const (
	defaultMemory  = lxcconf.DefaultMemory
	defaultSwap    = lxcconf.DefaultSwap
	defaultDiskGiB = 4
)

// planInputs are what the planned value of each setting is drawn from:
// the configuration, the template's defaults, the prior state and the
// built-in defaults.
type planInputs struct {
	config          containerResourceModel
	state           *containerResourceModel // nil on create
	spec            *templatedir.Spec       // nil when no (known) template
	templateUnknown bool                    // the template is not known yet: derived values are unknown too
}

// ModifyPlan fills every setting the configuration leaves open from the
// template and the prior state, marks the changes Proxmox VE cannot make in
// place as replacements, and reports at plan time what the API would refuse.
func (r *containerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan containerResourceModel
	resp.Diagnostics.Append(getPlan(ctx, req.Plan, &plan)...)
	in := readPlanInputs(ctx, req, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	in.fill(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	r.planClone(in, &plan, &resp.Diagnostics) // resource_container_clone.go
	if in.state != nil {
		resp.RequiresReplace = append(resp.RequiresReplace, in.replacements(ctx, plan, &resp.Diagnostics)...)
		if len(resp.RequiresReplace) == 0 {
			refuseShrinking(in.shrunkVolumes(ctx, plan, &resp.Diagnostics), &resp.Diagnostics)
		}
	}
	r.checkStorages(ctx, in, plan, &resp.Diagnostics)
	r.warnDuplicateHostname(ctx, in, plan, &resp.Diagnostics)
	r.checkPermissions(ctx, in, plan, &resp.Diagnostics)
	r.planProvisioning(ctx, in, &plan, &resp.Diagnostics)
	r.planRollback(ctx, in, plan, &resp.Diagnostics)
	if in.state == nil && !plan.OSTemplate.IsUnknown() && plan.OSTemplate.ValueString() == "" {
		resp.Diagnostics.AddAttributeError(path.Root("os_template"), "Missing OS Image",
			"The container needs an OS image: set os_template (e.g. \"debian-12-standard\") or a template whose os_template is set.")
	}
	checkChecksumApplies(plan.OSTemplateSum, plan.OSTemplate.StringValue, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(setPlan(ctx, &resp.Plan, &plan)...)
}

func readPlanInputs(ctx context.Context, req resource.ModifyPlanRequest, diags *diag.Diagnostics) planInputs {
	var in planInputs
	diags.Append(getConfig(ctx, req.Config, &in.config)...)
	if !req.State.Raw.IsNull() {
		in.state = &containerResourceModel{}
		diags.Append(getState(ctx, req.State, in.state)...)
	}
	switch {
	case in.config.Template.IsNull():
	case in.config.Template.IsUnknown():
		in.templateUnknown = true
	default:
		spec, d := specFromString(in.config.Template, path.Root("template"))
		diags.Append(d...)
		in.spec = &spec
	}
	return in
}

// source is one place a planned value can come from; ok is false when it
// has nothing to say, and the next source is asked.
type source[T any] func() (value T, ok bool)

// pick returns the value of the first source that has one, else fallback.
func pick[T any](fallback T, sources ...source[T]) T {
	for _, s := range sources {
		if v, ok := s(); ok {
			return v
		}
	}
	return fallback
}

// configured is the configuration's value, when it sets one.
func configured[T attr.Value](v T) source[T] {
	return func() (T, bool) { return v, !v.IsNull() }
}

// fromTemplate is a template default; while the template is unknown the
// value is unknown too.
func fromTemplate[T any](in planInputs, unknown T, get func(*templatedir.Spec) (T, bool)) source[T] {
	return func() (T, bool) {
		switch {
		case in.templateUnknown:
			return unknown, true
		case in.spec == nil:
			var zero T
			return zero, false
		}
		return get(in.spec)
	}
}

// fromState is the prior state's value (null included) on update.
func fromState[T any](st *containerResourceModel, get func(*containerResourceModel) T) source[T] {
	return func() (T, bool) {
		if st == nil {
			var zero T
			return zero, false
		}
		return get(st), true
	}
}

// fromStateIfSet is the prior state's value when it is not null: a name
// or storage, once chosen, stays.
func fromStateIfSet[T attr.Value](st *containerResourceModel, get func(*containerResourceModel) T) source[T] {
	return func() (T, bool) {
		if st == nil {
			var zero T
			return zero, false
		}
		v := get(st)
		return v, !v.IsNull()
	}
}

// equivalentToState keeps the prior value when the configuration says the
// same thing in another spelling. Terraform accepts a planned value equal to
// the prior state instead of the configuration when the provider deems the
// two equivalent; that is what keeps "Web" versus PVE's "web" (or an
// appliance name versus its volid) out of plans.
func equivalentToState[T attr.Value](ctx context.Context, cfg T, st *containerResourceModel, get func(*containerResourceModel) T, same func(ctx context.Context, prior, config T) bool) source[T] {
	return func() (T, bool) {
		if st == nil || !known(cfg) || !known(get(st)) {
			var zero T
			return zero, false
		}
		return get(st), same(ctx, get(st), cfg)
	}
}

// when is v if ok.
func when[T any](ok bool, v T) source[T] {
	return func() (T, bool) { return v, ok }
}

func semanticallyEqualTags(ctx context.Context, prior, config tagSetValue) bool {
	eq, _ := prior.SetSemanticEquals(ctx, config)
	return eq
}

func semanticallyEqualString(ctx context.Context, prior, config normalizedStringValue) bool {
	eq, _ := prior.StringSemanticEquals(ctx, config)
	return eq
}

// fill computes the planned value of every Optional+Computed setting.
func (in planInputs) fill(ctx context.Context, plan *containerResourceModel, diags *diag.Diagnostics) {
	in.fillResources(plan)
	in.fillDescriptive(ctx, plan)
	plan.Features = in.planFeatures(ctx, diags)
	plan.Network = in.planNetwork(ctx, diags)
	plan.MountPoints = in.planMountPoints(ctx, plan.MountPoints, diags)
	in.fillComputed(plan)
}

// fillResources plans the sizing and placement settings.
func (in planInputs) fillResources(plan *containerResourceModel) {
	cfg, st := in.config, in.state
	def := func(get func(templatedir.Defaults) int64) func(*templatedir.Spec) (types.Int64, bool) {
		return func(s *templatedir.Spec) (types.Int64, bool) { return types.Int64Value(get(s.Defaults)), true }
	}
	plan.Hostname = pick(types.StringUnknown(), configured(cfg.Hostname),
		fromStateIfSet(st, func(m *containerResourceModel) types.String { return m.Hostname }),
		fromTemplate(in, types.StringUnknown(), templateHostname))
	plan.Cores = pick(types.Int64Unknown(), configured(cfg.Cores),
		fromTemplate(in, types.Int64Unknown(), def(func(d templatedir.Defaults) int64 { return d.Cores })),
		fromState(st, func(m *containerResourceModel) types.Int64 { return m.Cores }))
	plan.Memory = pick(types.Int64Value(defaultMemory), configured(cfg.Memory),
		fromTemplate(in, types.Int64Unknown(), def(func(d templatedir.Defaults) int64 { return d.Memory })),
		fromState(st, func(m *containerResourceModel) types.Int64 { return m.Memory }))
	plan.Swap = pick(types.Int64Value(defaultSwap), configured(cfg.Swap),
		fromTemplate(in, types.Int64Unknown(), def(func(d templatedir.Defaults) int64 { return d.Swap })),
		fromState(st, func(m *containerResourceModel) types.Int64 { return m.Swap }))
	plan.CPULimit = pick(types.Float64Value(0), configured(cfg.CPULimit),
		fromState(st, func(m *containerResourceModel) types.Float64 { return m.CPULimit }))
	plan.DiskSize = pick(types.Float64Value(defaultDiskGiB), configured(cfg.DiskSize),
		fromTemplate(in, types.Float64Unknown(), func(s *templatedir.Spec) (types.Float64, bool) {
			return types.Float64Value(float64(s.Defaults.DiskSize)), true
		}),
		fromState(st, func(m *containerResourceModel) types.Float64 { return m.DiskSize }))
	plan.Storage = pick(types.StringUnknown(), configured(cfg.Storage),
		fromStateIfSet(st, func(m *containerResourceModel) types.String { return m.Storage }),
		fromTemplate(in, types.StringUnknown(), func(s *templatedir.Spec) (types.String, bool) {
			return types.StringValue(s.Defaults.Storage), s.Defaults.Storage != ""
		}))
	plan.Unprivileged = pick(types.BoolValue(true), configured(cfg.Unprivileged),
		fromTemplate(in, types.BoolUnknown(), func(s *templatedir.Spec) (types.Bool, bool) {
			return types.BoolValue(s.Defaults.Unprivileged), true
		}),
		fromState(st, func(m *containerResourceModel) types.Bool { return m.Unprivileged }))
}

// templateHostname is the template's name when it is a valid host name.
func templateHostname(s *templatedir.Spec) (types.String, bool) {
	return types.StringValue(s.Name), hostnameRE.MatchString(s.Name)
}

// fillDescriptive plans the OS image, tags and description: a spelling
// PVE stores differently keeps the prior value.
func (in planInputs) fillDescriptive(ctx context.Context, plan *containerResourceModel) {
	cfg, st := in.config, in.state
	osTemplate := func(m *containerResourceModel) normalizedStringValue { return m.OSTemplate }
	plan.OSTemplate = pick(newNormalizedString(normalizeOSTemplate, ""),
		equivalentToState(ctx, cfg.OSTemplate, st, osTemplate, semanticallyEqualString),
		configured(cfg.OSTemplate),
		fromTemplate(in, unknownNormalizedString(normalizeOSTemplate), func(s *templatedir.Spec) (normalizedStringValue, bool) {
			return newNormalizedString(normalizeOSTemplate, s.OSTemplate), s.OSTemplate != ""
		}),
		fromState(st, osTemplate))
	tags := func(m *containerResourceModel) tagSetValue { return m.Tags }
	plan.Tags = pick(newTagSet(nil),
		equivalentToState(ctx, cfg.Tags, st, tags, semanticallyEqualTags),
		configured(cfg.Tags),
		fromTemplate(in, tagSetValue{SetValue: types.SetUnknown(types.StringType)}, func(s *templatedir.Spec) (tagSetValue, bool) {
			return newTagSet(s.Tags), true
		}),
		fromState(st, tags))
	description := func(m *containerResourceModel) normalizedStringValue { return m.Description }
	plan.Description = pick(newNormalizedString(normalizeDescriptionText, ""),
		equivalentToState(ctx, cfg.Description, st, description, semanticallyEqualString),
		configured(cfg.Description),
		fromTemplate(in, unknownNormalizedString(normalizeDescriptionText), func(s *templatedir.Spec) (normalizedStringValue, bool) {
			return newNormalizedString(normalizeDescriptionText, s.Description), true
		}),
		fromState(st, description))
}

// fillComputed plans the results: known from state while nothing that
// drives them changes.
func (in planInputs) fillComputed(plan *containerResourceModel) {
	started := plan.Started.ValueBool()
	switch {
	case plan.Started.IsUnknown() || in.state == nil:
		// A new container may fail to start; it is then kept, stopped.
		plan.Status = types.StringUnknown()
	case started:
		plan.Status = types.StringValue("running")
	default:
		plan.Status = types.StringValue("stopped")
	}
	st := in.state
	if st == nil {
		plan.ID = types.StringUnknown()
		plan.MACAddresses = types.ListUnknown(types.StringType)
		plan.IPv4, plan.IPv6 = types.StringUnknown(), types.StringUnknown()
		return
	}
	plan.ID = st.ID
	networkSame := plan.Network.Equal(st.Network)
	plan.MACAddresses = pick(types.ListUnknown(types.StringType), when(networkSame, st.MACAddresses))
	plan.IPv4, plan.IPv6 = types.StringUnknown(), types.StringUnknown()
	if networkSame && started == st.Started.ValueBool() && !plan.Started.IsUnknown() {
		plan.IPv4, plan.IPv6 = st.IPv4, st.IPv6
	}
}

// replacements lists the changes PVE cannot make to an existing container
// and that replace it: another OS image, storage or unprivileged flag. A
// smaller volume is not among them (see shrunkVolumes).
func (in planInputs) replacements(ctx context.Context, plan containerResourceModel, diags *diag.Diagnostics) []path.Path {
	st := in.state
	var out []path.Path
	if known(plan.Unprivileged) && !plan.Unprivileged.Equal(st.Unprivileged) {
		out = append(out, path.Root("unprivileged"))
	}
	if known(plan.Storage) && !st.Storage.IsNull() && !plan.Storage.Equal(st.Storage) {
		out = append(out, path.Root("storage"))
	}
	if known(plan.OSTemplate) && !st.OSTemplate.IsNull() && st.OSTemplate.ValueString() != "" &&
		!sameOSTemplate(plan.OSTemplate.ValueString(), st.OSTemplate.ValueString()) {
		out = append(out, path.Root("os_template"))
	}
	if known(plan.OSTemplateSum) && plan.OSTemplateSum.ValueString() != "" && st.OSTemplateSum.ValueString() != "" &&
		!strings.EqualFold(plan.OSTemplateSum.ValueString(), st.OSTemplateSum.ValueString()) {
		out = append(out, path.Root("os_template_checksum"))
	}
	return append(out, mountPointReplacements(ctx, plan.MountPoints, st.MountPoints, diags)...)
}

// checkPermissions reports, before anything is created, the feature flags
// Proxmox VE lets only root@pam set — an API token never qualifies.
func (r *containerResource) checkPermissions(ctx context.Context, in planInputs, plan containerResourceModel, diags *diag.Diagnostics) {
	if r.data == nil || r.data.API == nil || !r.data.API.UsesAPIToken() || !known(plan.Features) || !known(plan.Unprivileged) {
		return
	}
	if in.state != nil && plan.Features.Equal(in.state.Features) {
		return
	}
	features := featuresToLXC(ctx, plan.Features, diags)
	switch {
	case !plan.Unprivileged.ValueBool() && features.Any():
		diags.AddAttributeError(path.Root("features"), "Feature Flags Need root@pam",
			"Proxmox VE lets only root@pam change feature flags of a privileged container, and the provider authenticates with "+
				"an API token ("+r.data.API.Identity()+"), which never counts as root@pam. Configure username = \"root@pam\" and "+
				"password instead of api_token, or make the container unprivileged.")
	case features.BeyondNesting():
		diags.AddAttributeError(path.Root("features"), "Feature Flags Need root@pam",
			"Proxmox VE lets only root@pam set feature flags other than nesting (keyctl, fuse, mknod, mount), and the provider "+
				"authenticates with an API token ("+r.data.API.Identity()+"), which never counts as root@pam. Configure "+
				"username = \"root@pam\" and password instead of api_token, or drop those flags.")
	}
}

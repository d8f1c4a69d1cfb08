package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Built-in defaults, used when neither the configuration nor the template
// sets a value (they match what Proxmox VE itself would use).
const (
	defaultMemory   = 512
	defaultSwap     = 512
	defaultDiskGiB  = 4
	defaultBridge   = "vmbr0"
	defaultIPConfig = "dhcp"
)

// planInputs are what the fallback chain of each setting draws on:
// configuration, then the template's defaults, then the prior state, then
// the built-in default.
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
	var in planInputs
	var plan containerResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &in.config)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		var state containerResourceModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		in.state = &state
	}
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case !in.config.Template.IsNull() && !fullyKnown(ctx, in.config.Template):
		in.templateUnknown = true
	case !in.config.Template.IsNull():
		spec, diags := specFromObject(ctx, in.config.Template)
		resp.Diagnostics.Append(diags...)
		in.spec = &spec
	}
	if resp.Diagnostics.HasError() {
		return
	}

	in.fill(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if in.state != nil {
		resp.RequiresReplace = append(resp.RequiresReplace, in.replacements(ctx, plan, &resp.Diagnostics)...)
	}
	r.checkPermissions(ctx, in, plan, &resp.Diagnostics)
	r.planProvisioning(ctx, in, &plan, &resp.Diagnostics)
	if in.state == nil && !plan.OSTemplate.IsUnknown() && plan.OSTemplate.ValueString() == "" {
		resp.Diagnostics.AddAttributeError(path.Root("os_template"), "Missing OS Image",
			"The container needs an OS image: set os_template (e.g. \"debian-12-standard\") or a template whose os_template is set.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// fill computes the planned value of every Optional+Computed setting.
func (in planInputs) fill(ctx context.Context, plan *containerResourceModel, diags *diag.Diagnostics) {
	cfg, st, spec := in.config, in.state, in.spec
	var d defaultsOf
	if spec != nil {
		d = defaultsOf{spec: spec}
	}

	plan.Hostname = in.pickString(cfg.Hostname, stateString(st, func(m *containerResourceModel) types.String { return m.Hostname }), d.hostname(), "")
	plan.Cores = in.pickInt(cfg.Cores, d.int(func(s *templatedir.Spec) int64 { return s.Defaults.Cores }), stateInt(st, func(m *containerResourceModel) types.Int64 { return m.Cores }), nil)
	plan.Memory = in.pickInt(cfg.Memory, d.int(func(s *templatedir.Spec) int64 { return s.Defaults.Memory }), stateInt(st, func(m *containerResourceModel) types.Int64 { return m.Memory }), ptr(int64(defaultMemory)))
	plan.Swap = in.pickInt(cfg.Swap, d.int(func(s *templatedir.Spec) int64 { return s.Defaults.Swap }), stateInt(st, func(m *containerResourceModel) types.Int64 { return m.Swap }), ptr(int64(defaultSwap)))
	plan.CPULimit = pickFloat(cfg.CPULimit, nil, stateFloat(st, func(m *containerResourceModel) types.Float64 { return m.CPULimit }), ptr(0.0))
	plan.DiskSize = in.pickFloat(cfg.DiskSize, d.float(func(s *templatedir.Spec) float64 { return float64(s.Defaults.DiskSize) }), stateFloat(st, func(m *containerResourceModel) types.Float64 { return m.DiskSize }), ptr(float64(defaultDiskGiB)))
	plan.Storage = in.pickString(cfg.Storage, stateString(st, func(m *containerResourceModel) types.String { return m.Storage }), d.nonEmpty(func(s *templatedir.Spec) string { return s.Defaults.Storage }), "")
	plan.Unprivileged = in.pickBool(cfg.Unprivileged, d.bool(func(s *templatedir.Spec) bool { return s.Defaults.Unprivileged }), stateBool(st, func(m *containerResourceModel) types.Bool { return m.Unprivileged }), ptr(true))

	// os_template: configuration, template, then whatever the state holds.
	switch {
	case !cfg.OSTemplate.IsNull() && st != nil && semanticallyEqualString(ctx, st.OSTemplate, cfg.OSTemplate):
		plan.OSTemplate = st.OSTemplate
	case !cfg.OSTemplate.IsNull():
		plan.OSTemplate = cfg.OSTemplate
	case in.templateUnknown:
		plan.OSTemplate = normalizedStringValue{StringValue: types.StringUnknown(), normalizer: normalizeOSTemplate}
	case spec != nil && spec.OSTemplate != "":
		plan.OSTemplate = newNormalizedString(normalizeOSTemplate, spec.OSTemplate)
	case st != nil:
		plan.OSTemplate = st.OSTemplate
	default:
		plan.OSTemplate = newNormalizedString(normalizeOSTemplate, "")
	}

	// tags and description
	switch {
	case !cfg.Tags.IsNull() && st != nil && semanticallyEqualTags(ctx, st.Tags, cfg.Tags):
		plan.Tags = st.Tags // the same tags as PVE stores them: keep the prior spelling
	case !cfg.Tags.IsNull():
		plan.Tags = cfg.Tags
	case in.templateUnknown:
		plan.Tags = tagSetValue{SetValue: types.SetUnknown(types.StringType)}
	case spec != nil:
		plan.Tags = newTagSet(spec.Tags)
	case st != nil:
		plan.Tags = st.Tags
	default:
		plan.Tags = newTagSet(nil)
	}
	switch {
	case !cfg.Description.IsNull() && st != nil && semanticallyEqualString(ctx, st.Description, cfg.Description):
		plan.Description = st.Description
	case !cfg.Description.IsNull():
		plan.Description = cfg.Description
	case in.templateUnknown:
		plan.Description = normalizedStringValue{StringValue: types.StringUnknown(), normalizer: normalizeDescriptionText}
	case spec != nil:
		plan.Description = newNormalizedString(normalizeDescriptionText, spec.Description)
	case st != nil:
		plan.Description = st.Description
	default:
		plan.Description = newNormalizedString(normalizeDescriptionText, "")
	}

	plan.Features = in.planFeatures(ctx, diags)
	plan.Network = in.planNetwork(ctx, diags)
	in.planMountPoints(ctx, plan, diags)

	// Computed results: known from state while nothing that drives them changes.
	started := plan.Started.ValueBool()
	if plan.Started.IsUnknown() {
		plan.Status = types.StringUnknown()
	} else if started {
		plan.Status = types.StringValue("running")
	} else {
		plan.Status = types.StringValue("stopped")
	}
	if st == nil {
		plan.ID = types.StringUnknown()
		plan.MACAddresses = types.ListUnknown(types.StringType)
		plan.IPv4, plan.IPv6 = types.StringUnknown(), types.StringUnknown()
		return
	}
	plan.ID = st.ID
	networkSame := plan.Network.Equal(st.Network)
	if networkSame {
		plan.MACAddresses = st.MACAddresses
	} else {
		plan.MACAddresses = types.ListUnknown(types.StringType)
	}
	if networkSame && started == st.Started.ValueBool() && !plan.Started.IsUnknown() {
		plan.IPv4, plan.IPv6 = st.IPv4, st.IPv6
	} else {
		plan.IPv4, plan.IPv6 = types.StringUnknown(), types.StringUnknown()
	}
}

func ptr[T any](v T) *T { return &v }

// Terraform accepts a planned value equal to the prior state instead of the
// configuration when the provider deems the two equivalent. Planning the
// prior value for a semantically equal configuration is what keeps "Web"
// versus PVE's "web" (or an appliance name versus its volid) out of plans.

func semanticallyEqualTags(ctx context.Context, prior, config tagSetValue) bool {
	if !known(prior) || !known(config) {
		return false
	}
	eq, _ := prior.SetSemanticEquals(ctx, config)
	return eq
}

func semanticallyEqualString(ctx context.Context, prior, config normalizedStringValue) bool {
	if !known(prior) || !known(config) {
		return false
	}
	eq, _ := prior.StringSemanticEquals(ctx, config)
	return eq
}

// defaultsOf reads template defaults; every accessor returns nil without a template.
type defaultsOf struct{ spec *templatedir.Spec }

func (d defaultsOf) int(f func(*templatedir.Spec) int64) *int64 {
	if d.spec == nil {
		return nil
	}
	return ptr(f(d.spec))
}

func (d defaultsOf) float(f func(*templatedir.Spec) float64) *float64 {
	if d.spec == nil {
		return nil
	}
	return ptr(f(d.spec))
}

func (d defaultsOf) bool(f func(*templatedir.Spec) bool) *bool {
	if d.spec == nil {
		return nil
	}
	return ptr(f(d.spec))
}

func (d defaultsOf) nonEmpty(f func(*templatedir.Spec) string) *string {
	if d.spec == nil || f(d.spec) == "" {
		return nil
	}
	return ptr(f(d.spec))
}

// hostname is the template's name when it is a valid host name.
func (d defaultsOf) hostname() *string {
	if d.spec == nil || !hostnameRE.MatchString(d.spec.Name) {
		return nil
	}
	return ptr(d.spec.Name)
}

func stateInt(st *containerResourceModel, f func(*containerResourceModel) types.Int64) *types.Int64 {
	if st == nil {
		return nil
	}
	return ptr(f(st))
}

func stateFloat(st *containerResourceModel, f func(*containerResourceModel) types.Float64) *types.Float64 {
	if st == nil {
		return nil
	}
	return ptr(f(st))
}

func stateBool(st *containerResourceModel, f func(*containerResourceModel) types.Bool) *types.Bool {
	if st == nil {
		return nil
	}
	return ptr(f(st))
}

func stateString(st *containerResourceModel, f func(*containerResourceModel) types.String) *types.String {
	if st == nil {
		return nil
	}
	return ptr(f(st))
}

// pickInt: configuration, template, state, built-in default; unknown while
// the template is unknown, and unknown (computed at apply) when nothing applies.
func (in planInputs) pickInt(cfg types.Int64, tmpl *int64, state *types.Int64, def *int64) types.Int64 {
	switch {
	case !cfg.IsNull():
		return cfg
	case in.templateUnknown:
		return types.Int64Unknown()
	case tmpl != nil:
		return types.Int64Value(*tmpl)
	case state != nil:
		return *state
	case def != nil:
		return types.Int64Value(*def)
	}
	return types.Int64Unknown()
}

func (in planInputs) pickFloat(cfg types.Float64, tmpl *float64, state *types.Float64, def *float64) types.Float64 {
	if cfg.IsNull() && in.templateUnknown {
		return types.Float64Unknown()
	}
	return pickFloat(cfg, tmpl, state, def)
}

func pickFloat(cfg types.Float64, tmpl *float64, state *types.Float64, def *float64) types.Float64 {
	switch {
	case !cfg.IsNull():
		return cfg
	case tmpl != nil:
		return types.Float64Value(*tmpl)
	case state != nil:
		return *state
	case def != nil:
		return types.Float64Value(*def)
	}
	return types.Float64Unknown()
}

func (in planInputs) pickBool(cfg types.Bool, tmpl *bool, state *types.Bool, def *bool) types.Bool {
	switch {
	case !cfg.IsNull():
		return cfg
	case in.templateUnknown:
		return types.BoolUnknown()
	case tmpl != nil:
		return types.BoolValue(*tmpl)
	case state != nil:
		return *state
	case def != nil:
		return types.BoolValue(*def)
	}
	return types.BoolUnknown()
}

// pickString: like pickInt, but the state comes before the template (a
// storage or host name, once chosen, stays) and "" means computed at apply.
func (in planInputs) pickString(cfg types.String, state *types.String, tmpl *string, def string) types.String {
	switch {
	case !cfg.IsNull():
		return cfg
	case state != nil && !state.IsNull():
		return *state
	case in.templateUnknown:
		return types.StringUnknown()
	case tmpl != nil:
		return types.StringValue(*tmpl)
	case def != "":
		return types.StringValue(def)
	}
	return types.StringUnknown()
}

// planFeatures merges each flag: configuration, template, state, off.
func (in planInputs) planFeatures(ctx context.Context, diags *diag.Diagnostics) types.Object {
	var cfg, st containerFeaturesModel
	if !in.config.Features.IsNull() {
		diags.Append(in.config.Features.As(ctx, &cfg, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})...)
	}
	var state *containerFeaturesModel
	if in.state != nil && !in.state.Features.IsNull() && !in.state.Features.IsUnknown() {
		diags.Append(in.state.Features.As(ctx, &st, basetypes.ObjectAsOptions{})...)
		state = &st
	}
	flag := func(c types.Bool, tmpl func(templatedir.Features) bool, s func(containerFeaturesModel) types.Bool) types.Bool {
		var t *bool
		if in.spec != nil && tmpl != nil {
			t = ptr(tmpl(in.spec.Defaults.Features))
		}
		var sv *types.Bool
		if state != nil {
			sv = ptr(s(*state))
		}
		return in.pickBool(c, t, sv, ptr(false))
	}
	mount := cfg.Mount
	if mount.IsNull() {
		switch {
		case state != nil:
			mount = state.Mount
		default:
			mount = types.SetValueMust(types.StringType, []attr.Value{})
		}
	}
	return types.ObjectValueMust(featuresAttrTypes, map[string]attr.Value{
		"nesting": flag(cfg.Nesting, func(f templatedir.Features) bool { return f.Nesting }, func(m containerFeaturesModel) types.Bool { return m.Nesting }),
		"keyctl":  flag(cfg.Keyctl, func(f templatedir.Features) bool { return f.Keyctl }, func(m containerFeaturesModel) types.Bool { return m.Keyctl }),
		"fuse":    flag(cfg.Fuse, func(f templatedir.Features) bool { return f.Fuse }, func(m containerFeaturesModel) types.Bool { return m.Fuse }),
		"mknod":   flag(cfg.Mknod, nil, func(m containerFeaturesModel) types.Bool { return m.Mknod }),
		"mount":   mount,
	})
}

// planNetwork fills each interface's name, bridge, MAC and firewall flag;
// with no network configured it keeps the state's, or plans one DHCP
// interface on the template's bridge.
func (in planInputs) planNetwork(ctx context.Context, diags *diag.Diagnostics) types.List {
	listType := types.ObjectType{AttrTypes: networkAttrTypes}
	if in.config.Network.IsUnknown() {
		return types.ListUnknown(listType)
	}
	var stateNets []networkModel
	if in.state != nil && !in.state.Network.IsNull() && !in.state.Network.IsUnknown() {
		diags.Append(in.state.Network.ElementsAs(ctx, &stateNets, false)...)
	}
	if in.config.Network.IsNull() {
		if in.state != nil {
			return in.state.Network
		}
		bridge := types.StringValue(defaultBridge)
		switch {
		case in.templateUnknown:
			bridge = types.StringUnknown()
		case in.spec != nil && in.spec.Defaults.Bridge != "":
			bridge = types.StringValue(in.spec.Defaults.Bridge)
		}
		nets := []networkModel{{
			Name: types.StringValue("eth0"), Bridge: bridge, IP: types.StringValue(defaultIPConfig),
			GW: types.StringNull(), IP6: types.StringNull(), GW6: types.StringNull(), HWAddr: types.StringUnknown(),
			Firewall: types.BoolValue(false), Tag: types.Int64Null(), MTU: types.Int64Null(), Rate: types.Float64Null(),
		}}
		v, d := types.ListValueFrom(ctx, listType, nets)
		diags.Append(d...)
		return v
	}
	var nets []networkModel
	diags.Append(in.config.Network.ElementsAs(ctx, &nets, false)...)
	for i := range nets {
		n := &nets[i]
		if n.Name.IsNull() {
			n.Name = types.StringValue(fmt.Sprintf("eth%d", i))
		}
		if n.Bridge.IsNull() {
			switch {
			case in.templateUnknown:
				n.Bridge = types.StringUnknown()
			case in.spec != nil && in.spec.Defaults.Bridge != "":
				n.Bridge = types.StringValue(in.spec.Defaults.Bridge)
			default:
				n.Bridge = types.StringValue(defaultBridge)
			}
		}
		if n.Firewall.IsNull() {
			n.Firewall = types.BoolValue(false)
		}
		if n.HWAddr.IsNull() {
			n.HWAddr = types.StringUnknown()
			if i < len(stateNets) {
				n.HWAddr = stateNets[i].HWAddr
			}
		}
	}
	v, d := types.ListValueFrom(ctx, listType, nets)
	diags.Append(d...)
	return v
}

// planMountPoints keeps the allocated volume id of every slot that stays.
func (in planInputs) planMountPoints(ctx context.Context, plan *containerResourceModel, diags *diag.Diagnostics) {
	if plan.MountPoints.IsNull() || plan.MountPoints.IsUnknown() {
		return
	}
	var planned, prior map[string]mountPointModel
	diags.Append(plan.MountPoints.ElementsAs(ctx, &planned, false)...)
	if in.state != nil && !in.state.MountPoints.IsNull() {
		diags.Append(in.state.MountPoints.ElementsAs(ctx, &prior, false)...)
	}
	for slot, mp := range planned {
		if p, ok := prior[slot]; ok && p.Storage.Equal(mp.Storage) {
			mp.Volume = p.Volume
		} else {
			mp.Volume = types.StringUnknown()
		}
		planned[slot] = mp
	}
	v, d := types.MapValueFrom(ctx, types.ObjectType{AttrTypes: mountPointAttrTypes}, planned)
	diags.Append(d...)
	plan.MountPoints = v
}

// replacements lists the changes PVE cannot make to an existing container.
func (in planInputs) replacements(ctx context.Context, plan containerResourceModel, diags *diag.Diagnostics) []path.Path {
	st := in.state
	var out []path.Path
	if known(plan.Unprivileged) && !plan.Unprivileged.Equal(st.Unprivileged) {
		out = append(out, path.Root("unprivileged"))
	}
	if known(plan.Storage) && !st.Storage.IsNull() && !plan.Storage.Equal(st.Storage) {
		out = append(out, path.Root("storage"))
	}
	if known(plan.DiskSize) && known(st.DiskSize) && plan.DiskSize.ValueFloat64() < st.DiskSize.ValueFloat64() {
		out = append(out, path.Root("disk_size"))
	}
	if known(plan.OSTemplate) && !st.OSTemplate.IsNull() && st.OSTemplate.ValueString() != "" &&
		!sameOSTemplate(plan.OSTemplate.ValueString(), st.OSTemplate.ValueString()) {
		out = append(out, path.Root("os_template"))
	}
	if plan.MountPoints.IsUnknown() || st.MountPoints.IsNull() || plan.MountPoints.IsNull() {
		return out
	}
	var planned, prior map[string]mountPointModel
	diags.Append(plan.MountPoints.ElementsAs(ctx, &planned, false)...)
	diags.Append(st.MountPoints.ElementsAs(ctx, &prior, false)...)
	for _, slot := range slices.Sorted(maps.Keys(prior)) {
		p, mp := prior[slot], planned[slot]
		if _, stays := planned[slot]; !stays {
			continue
		}
		if known(mp.Storage) && !mp.Storage.Equal(p.Storage) {
			out = append(out, path.Root("mount_points").AtMapKey(slot).AtName("storage"))
		}
		if known(mp.Size) && mp.Size.ValueFloat64() < p.Size.ValueFloat64() {
			out = append(out, path.Root("mount_points").AtMapKey(slot).AtName("size"))
		}
	}
	return out
}

func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

// fullyKnown reports whether v and everything nested in it is known.
func fullyKnown(ctx context.Context, v attr.Value) bool {
	tv, err := v.ToTerraformValue(ctx)
	return err == nil && tv.IsFullyKnown()
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
	want, d := plan.desiredSettings(ctx)
	diags.Append(d...)
	unprivileged := plan.Unprivileged.ValueBool()
	switch {
	case !unprivileged && want.Features.any():
		diags.AddAttributeError(path.Root("features"), "Feature Flags Need root@pam",
			"Proxmox VE lets only root@pam change feature flags of a privileged container, and the provider authenticates with "+
				"an API token ("+r.data.API.Identity()+"), which never counts as root@pam. Configure username = \"root@pam\" and "+
				"password instead of api_token, or make the container unprivileged.")
	case want.Features.beyondNesting():
		diags.AddAttributeError(path.Root("features"), "Feature Flags Need root@pam",
			"Proxmox VE lets only root@pam set feature flags other than nesting (keyctl, fuse, mknod, mount), and the provider "+
				"authenticates with an API token ("+r.data.API.Identity()+"), which never counts as root@pam. Configure "+
				"username = \"root@pam\" and password instead of api_token, or drop those flags.")
	}
}

// planProvisioning plans provisioned, services and credentials: unknown
// when an apply will provision (a new container, or new or changed steps),
// else what state holds. It also reports at plan time what needs SSH
// access the provider does not have.
func (r *containerResource) planProvisioning(ctx context.Context, in planInputs, plan *containerResourceModel, diags *diag.Diagnostics) {
	hasSSH := r.data != nil && r.data.SSH != nil
	if in.config.Provisioning != nil && in.config.Provisioning.Enabled.ValueBool() && !hasSSH {
		diags.AddAttributeError(path.Root("provisioning").AtName("enabled"), "Provisioning Needs SSH",
			"Provisioning runs pct exec on the node over SSH, and the provider has no ssh block (or PVE_SSH_* settings). "+
				"Add an ssh block to the provider, or set provisioning.enabled = false.")
		return
	}
	if st := in.state; st != nil && !hasSSH {
		if known(plan.SSHPublicKeys) && !plan.SSHPublicKeys.Equal(st.SSHPublicKeys) {
			diags.AddAttributeError(path.Root("ssh_public_keys"), "Changing SSH Keys Needs SSH",
				"Proxmox VE takes root's SSH keys only when a container is created; the provider changes them in an existing "+
					"container with pct exec over SSH, and it has no ssh block. Add one to the provider, or keep the keys unchanged.")
		}
		if (known(plan.Password) && !plan.Password.Equal(st.Password)) || !plan.PasswordWOVersion.Equal(st.PasswordWOVersion) {
			diags.AddAttributeError(path.Root("password"), "Changing the Password Needs SSH",
				"Proxmox VE takes the root password only when a container is created; the provider changes it in an existing "+
					"container with pct exec over SSH, and it has no ssh block. Add one to the provider, or keep the password unchanged.")
		}
	}
	p, d := r.provisioningOf(ctx, *plan)
	diags.Append(d...)
	keep := func() {
		if in.state != nil {
			plan.Provisioned, plan.Services, plan.Credentials = in.state.Provisioned, in.state.Services, in.state.Credentials
		} else {
			plan.clearOutcome()
		}
	}
	unknown := func() {
		plan.Provisioned = types.MapUnknown(types.StringType)
		plan.Services = types.ListUnknown(serviceObjectType)
		plan.Credentials = types.MapUnknown(credentialsType)
	}
	switch {
	case !p.enabled:
		keep()
		if in.state == nil {
			plan.clearOutcome()
		}
	case in.state == nil, in.templateUnknown:
		unknown()
	default:
		applied, d := provisionedOf(ctx, *in.state)
		diags.Append(d...)
		need, err := wouldProvision(p, applied, plan.Hostname.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("template"), "Template Cannot Be Provisioned", err.Error())
			return
		}
		if need {
			unknown()
		} else {
			keep()
		}
	}
}

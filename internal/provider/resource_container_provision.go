package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Provisioning of pve_lxc_container: what the plan says about it, the runs
// inside the container, and what they leave in state.

// provisioningModel is the provisioning block.
type provisioningModel struct {
	Enabled           types.Bool   `tfsdk:"enabled"`
	Rerun             types.String `tfsdk:"rerun"`
	RollbackOnFailure types.Bool   `tfsdk:"rollback_on_failure"` // see resource_container_rollback.go
}

var (
	serviceAttrTypes  = map[string]attr.Type{"name": types.StringType, "port": types.Int64Type, "url": types.StringType}
	serviceObjectType = types.ObjectType{AttrTypes: serviceAttrTypes}
	credentialsType   = types.MapType{ElemType: types.StringType}
)

type serviceModel struct {
	Name types.String `tfsdk:"name"`
	Port types.Int64  `tfsdk:"port"`
	URL  types.String `tfsdk:"url"`
}

// provisioningSettings are what the plan says about provisioning.
type provisioningSettings struct {
	enabled bool
	rerun   string
	spec    *templatedir.Spec
}

// provisioningOf decides whether the container is provisioned: the block's
// enabled flag, by default on when there is a template and SSH access.
func (r *containerResource) provisioningOf(m containerResourceModel) (provisioningSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := provisioningSettings{rerun: provision.RerunChanged}
	var block provisioningModel
	if m.Provisioning != nil {
		block = *m.Provisioning
	}
	if known(block.Rerun) {
		p.rerun = block.Rerun.ValueString()
	}
	if known(m.Template) {
		spec, d := specFromString(m.Template, path.Root("template"))
		diags.Append(d...)
		p.spec = &spec
	}
	p.enabled = !m.Template.IsNull() && r.hasSSH()
	if known(block.Enabled) {
		p.enabled = block.Enabled.ValueBool()
	}
	return p, diags
}

func (r *containerResource) hasSSH() bool { return r.data != nil && r.data.SSH != nil }

// runs reports whether provisioning happens: enabled, with a template.
func (p provisioningSettings) runs() bool { return p.enabled && p.spec != nil }

// loadContent reads the content of the template's scripts and files from
// the directory its spec names, checked against the planned digests. A
// spec written inline already has it.
func (p *provisioningSettings) loadContent(diags *diag.Diagnostics) bool {
	if !p.runs() {
		return true
	}
	spec, err := templatedir.LoadContent(*p.spec)
	var changed *templatedir.ContentChangedError
	switch {
	case errors.As(err, &changed):
		diags.AddAttributeError(path.Root("template"), "Template Changed Since the Plan", fmt.Sprintf(
			"%v. An apply runs only what its plan showed, so nothing was changed, in Proxmox VE or in the container. "+
				"Run terraform plan again to see the change, then apply it.", err))
		return false
	case err != nil:
		diags.AddAttributeError(path.Root("template"), "Cannot Read the Template's Content", fmt.Sprintf(
			"%v. Provisioning reads the template's scripts and files from its source directory, relative to the directory "+
				"Terraform runs in; run the apply from the configuration's directory, with the template directory checked out.", err))
		return false
	}
	p.spec = &spec
	return true
}

// provisionedOf reads the state's map of applied step digests.
func provisionedOf(ctx context.Context, m containerResourceModel) (map[string]string, diag.Diagnostics) {
	if !known(m.Provisioned) {
		return nil, nil
	}
	out := map[string]string{}
	diags := m.Provisioned.ElementsAs(ctx, &out, false)
	return out, diags
}

// wouldProvision says whether an update would provision anything: new or
// changed steps compared with what state says was applied. "all" re-runs
// everything, but only when something changed — otherwise every plan
// would show a change.
func wouldProvision(p provisioningSettings, applied map[string]string, hostname string) (bool, error) {
	if !p.enabled || p.spec == nil || p.rerun == provision.RerunNever {
		return false, nil
	}
	run, err := provision.NewRun(provision.Request{Spec: *p.spec, Rerun: provision.RerunChanged, Applied: applied, Hostname: hostname})
	if err != nil {
		return false, err
	}
	return !run.Empty(), nil
}

// planProvisioning plans provisioned, services and credentials: unknown
// when an apply will provision (a new container, or new or changed steps),
// else what state holds. It also reports at plan time what needs SSH
// access the provider does not have.
func (r *containerResource) planProvisioning(ctx context.Context, in planInputs, plan *containerResourceModel, diags *diag.Diagnostics) {
	if in.config.Provisioning != nil && in.config.Provisioning.Enabled.ValueBool() && !r.hasSSH() {
		diags.AddAttributeError(path.Root("provisioning").AtName("enabled"), "Provisioning Needs SSH",
			"Provisioning runs pct exec on the node over SSH, and the provider has no ssh block (or PVE_SSH_* settings). "+
				"Add an ssh block to the provider, or set provisioning.enabled = false.")
		return
	}
	r.checkAccessChangesNeedSSH(in, *plan, diags)
	p, d := r.provisioningOf(*plan)
	diags.Append(d...)
	switch {
	case in.state == nil && p.enabled, in.templateUnknown && p.enabled:
		plan.unknownOutcome()
	case in.state == nil:
		plan.clearOutcome()
	case !p.enabled:
		plan.keepOutcome(*in.state)
	default:
		applied, d := provisionedOf(ctx, *in.state)
		diags.Append(d...)
		need, err := wouldProvision(p, applied, plan.Hostname.ValueString())
		switch {
		case err != nil:
			diags.AddAttributeError(path.Root("template"), "Template Cannot Be Provisioned", err.Error())
		case need:
			plan.unknownOutcome()
		default:
			plan.keepOutcome(*in.state)
		}
	}
}

// checkAccessChangesNeedSSH refuses, at plan time, root key and password
// changes the provider could only make over SSH it does not have.
func (r *containerResource) checkAccessChangesNeedSSH(in planInputs, plan containerResourceModel, diags *diag.Diagnostics) {
	st := in.state
	if st == nil || r.hasSSH() {
		return
	}
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

// provisionJob is one provisioning run of one container.
type provisionJob struct {
	ref      containerRef
	settings provisioningSettings
	applied  map[string]string // what state says was applied; nil on create
	create   bool
	hostname string
	clone    *provision.Clone // a clone's first run: only its own part (resource_container_clone.go)
}

// provisionOutcome is what a provisioning run leaves in state.
type provisionOutcome struct {
	provisioned map[string]string
	report      *provision.Report
}

// provision applies the template inside a running container.
func (r *containerResource) provision(ctx context.Context, job provisionJob) (provisionOutcome, error) {
	rerun := job.settings.rerun
	if rerun == provision.RerunNever && job.create {
		rerun = provision.RerunChanged
	}
	out := provisionOutcome{provisioned: job.applied}
	run, err := provision.NewRun(provision.Request{
		Spec: *job.settings.spec, Rerun: rerun, Applied: job.applied, Create: job.create, Hostname: job.hostname, Clone: job.clone,
	})
	if err != nil {
		return out, err
	}
	if err := r.waitReady(ctx, job.ref); err != nil {
		return out, err
	}
	tflog.Info(ctx, "provisioning container", map[string]any{"steps": len(run.Steps())})
	rep, err := r.runAgent(ctx, job.ref, run)
	if rep != nil {
		out.report, out.provisioned = rep, run.Provisioned(rep)
	}
	if err != nil {
		return out, err
	}
	return out, rep.Err()
}

// checkDrift runs the drift check of a refresh: for a running, provisioned
// container, one pct exec compares managed files and packages with what
// was applied, and rediscovers services and credentials. Trouble reaching
// the container is a warning, not an error: the refresh still reports
// everything the API knows.
func (r *containerResource) checkDrift(ctx context.Context, ref containerRef, state *containerResourceModel, diags *diag.Diagnostics) {
	p, d := r.provisioningOf(*state)
	diags.Append(d...)
	if !p.enabled || p.spec == nil || state.Status.ValueString() != "running" || !r.hasSSH() {
		return
	}
	applied, d := provisionedOf(ctx, *state)
	diags.Append(d...)
	check := provision.NewCheck(*p.spec, applied)
	rep, err := r.runAgent(ctx, ref, check)
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		diags.AddWarning("Drift Check Skipped", fmt.Sprintf(
			"Container %d on node %s could not be checked for changes made inside it: %v", ref.vmid, ref.node, err))
		return
	}
	diags.Append(state.setOutcome(ctx, provisionOutcome{provisioned: check.Provisioned(rep), report: rep})...)
}

// setOutcome writes provisioned digests, services and credentials.
func (m *containerResourceModel) setOutcome(ctx context.Context, o provisionOutcome) diag.Diagnostics {
	var diags, d diag.Diagnostics
	m.Provisioned, d = types.MapValueFrom(ctx, types.StringType, nonNil(o.provisioned))
	diags.Append(d...)
	if o.report == nil {
		return diags
	}
	services := make([]serviceModel, 0, len(o.report.Services))
	for _, s := range o.report.Services {
		services = append(services, serviceModel{Name: types.StringValue(s.Name), Port: types.Int64Value(int64(s.Port)), URL: types.StringValue(s.URL)})
	}
	m.Services, d = types.ListValueFrom(ctx, serviceObjectType, services)
	diags.Append(d...)
	m.Credentials, d = types.MapValueFrom(ctx, credentialsType, nonNil(o.report.Credentials))
	diags.Append(d...)
	return diags
}

func nonNil[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// clearOutcome is the state of a container that is not provisioned.
func (m *containerResourceModel) clearOutcome() {
	m.Provisioned = types.MapNull(types.StringType)
	m.Services = types.ListNull(serviceObjectType)
	m.Credentials = types.MapNull(credentialsType)
}

// unknownOutcome plans a provisioning run: its results are known after apply.
func (m *containerResourceModel) unknownOutcome() {
	m.Provisioned = types.MapUnknown(types.StringType)
	m.Services = types.ListUnknown(serviceObjectType)
	m.Credentials = types.MapUnknown(credentialsType)
}

// keepOutcome plans no provisioning: the results stay as state has them.
func (m *containerResourceModel) keepOutcome(state containerResourceModel) {
	m.Provisioned, m.Services, m.Credentials = state.Provisioned, state.Services, state.Credentials
}

// What a failed provisioning run leaves, by when it ran: a failed create
// taints the container (Terraform replaces it), a failed update does not
// (state keeps what the run applied, and the next apply runs the rest).
const (
	afterFailedCreate = "The container stays in state, marked tainted: the next apply replaces it."
	afterFailedUpdate = "State records the steps that were applied; the next apply runs the failed step and those after it again."
)

// provisioningError turns a provisioning failure into a diagnostic that
// names the step and shows its output tail; outcome says what state holds.
func provisioningError(diags *diag.Diagnostics, ref containerRef, err error, outcome string) {
	var step *provision.StepError
	if errors.As(err, &step) {
		diags.AddError("Provisioning Failed", fmt.Sprintf(
			"Container %d on node %s: %s\n\n%s Last output lines of the step:\n%s",
			ref.vmid, ref.node, step.Summary(), outcome, strings.Join(step.Result.OutputTail, "\n")))
		return
	}
	diags.AddError("Provisioning Failed", fmt.Sprintf(
		"Container %d on node %s could not be provisioned: %v\n\n%s", ref.vmid, ref.node, err, outcome))
}

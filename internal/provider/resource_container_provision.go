package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// provisioningModel is the provisioning block.
type provisioningModel struct {
	Enabled types.Bool   `tfsdk:"enabled"`
	Rerun   types.String `tfsdk:"rerun"`
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
func (r *containerResource) provisioningOf(ctx context.Context, m containerResourceModel) (provisioningSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	var p provisioningSettings
	p.rerun = provision.RerunChanged
	var block provisioningModel
	if m.Provisioning != nil {
		block = *m.Provisioning
	}
	if known(block.Rerun) {
		p.rerun = block.Rerun.ValueString()
	}
	if !m.Template.IsNull() && !m.Template.IsUnknown() && fullyKnown(ctx, m.Template) {
		spec, d := specFromObject(ctx, m.Template)
		diags.Append(d...)
		p.spec = &spec
	}
	hasSSH := r.data != nil && r.data.SSH != nil
	switch {
	case known(block.Enabled):
		p.enabled = block.Enabled.ValueBool()
	default:
		p.enabled = !m.Template.IsNull() && hasSSH
	}
	return p, diags
}

// provisioned reads the state's map of applied step digests.
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

// sshClient is the provider's one SSH client, made on first use.
func (d *providerData) sshClient() (*sshexec.Client, error) {
	d.sshOnce.Do(func() {
		if d.SSH == nil {
			d.sshErr = errors.New("the provider has no ssh block (or PVE_SSH_* settings)")
			return
		}
		d.ssh, d.sshErr = sshexec.New(*d.SSH)
	})
	return d.ssh, d.sshErr
}

// sshState holds the lazily made SSH client of providerData.
type sshState struct {
	sshOnce sync.Once
	ssh     *sshexec.Client
	sshErr  error
}

// pctExec runs argv in the container over SSH on its node and streams
// the output lines to tflog.
func (r *containerResource) pctExec(ctx context.Context, node string, vmid int, argv []string, stdin io.Reader, stdout func(string)) error {
	client, err := r.data.sshClient()
	if err != nil {
		return err
	}
	_, err = client.Run(ctx, node, sshexec.Command{
		Argv:   sshexec.PctExec(vmid, argv...),
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: func(line string) { tflog.SubsystemTrace(ctx, logSubsystemSSH, "stderr", map[string]any{"line": line}) },
	})
	return err
}

// waitReady waits until the container runs a shell and its init system has
// settled, bounded by ctx.
func (r *containerResource) waitReady(ctx context.Context, node string, vmid int) error {
	var last error
	for delay := 500 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		err := r.pctExec(ctx, node, vmid, provision.ReadyArgv(), nil, nil)
		if err == nil {
			return nil
		}
		var exit *sshexec.ExitError
		if !errors.As(err, &exit) {
			return err // no SSH: retrying does not help
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %d did not become ready: %w (last attempt: %w)", vmid, ctx.Err(), last)
		case <-time.After(delay):
		}
	}
}

// runAgent runs one provisioning (or check) run in the container: one
// pct exec, whatever the number of steps. Progress goes to tflog as it
// happens; the report comes back even when a step failed.
func (r *containerResource) runAgent(ctx context.Context, node string, vmid int, run *provision.Run) (*provision.Report, error) {
	stdin, err := run.Stdin()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	type parsed struct {
		rep *provision.Report
		err error
	}
	done := make(chan parsed, 1)
	go func() {
		rep, err := provision.ParseReport(pr, func(line string) {
			tflog.Info(ctx, "provisioning", map[string]any{"vmid": vmid, "line": line})
		})
		_, _ = io.Copy(io.Discard, pr)
		done <- parsed{rep, err}
	}()
	runErr := r.pctExec(ctx, node, vmid, run.Argv(), stdin, func(line string) {
		_, _ = io.WriteString(pw, line+"\n")
	})
	_ = pw.Close()
	res := <-done
	var exit *sshexec.ExitError
	switch {
	case res.err != nil:
		return nil, res.err
	case runErr != nil && !errors.As(runErr, &exit):
		// The transport failed (not the agent): the report says how far
		// it got; the run is not repeated.
		if res.rep != nil {
			res.rep.Interrupted = true
		}
		return res.rep, fmt.Errorf("provisioning container %d over SSH: %w", vmid, runErr)
	}
	return res.rep, nil
}

// provisionOutcome is what a provisioning run leaves in state.
type provisionOutcome struct {
	provisioned map[string]string
	report      *provision.Report
}

// provisionContainer applies the template inside a running container.
func (r *containerResource) provisionContainer(ctx context.Context, node string, vmid int, p provisioningSettings, applied map[string]string, create bool, hostname string) (provisionOutcome, error) {
	rerun := p.rerun
	if rerun == provision.RerunNever && create {
		rerun = provision.RerunChanged
	}
	run, err := provision.NewRun(provision.Request{Spec: *p.spec, Rerun: rerun, Applied: applied, Create: create, Hostname: hostname})
	if err != nil {
		return provisionOutcome{provisioned: applied}, err
	}
	if err := r.waitReady(ctx, node, vmid); err != nil {
		return provisionOutcome{provisioned: applied}, err
	}
	tflog.Info(ctx, "provisioning container", map[string]any{"steps": len(run.Steps())})
	rep, err := r.runAgent(ctx, node, vmid, run)
	out := provisionOutcome{provisioned: applied, report: rep}
	if rep != nil {
		out.provisioned = run.Provisioned(rep)
	}
	if err != nil {
		return out, err
	}
	return out, rep.Err()
}

// checkContainer looks for drift in a running container (changed managed
// files, missing packages) and rediscovers services and credentials.
func (r *containerResource) checkContainer(ctx context.Context, node string, vmid int, spec templatedir.Spec, applied map[string]string) (provisionOutcome, error) {
	check := provision.NewCheck(spec, applied)
	rep, err := r.runAgent(ctx, node, vmid, check)
	if err != nil {
		return provisionOutcome{provisioned: applied}, err
	}
	if err := rep.Err(); err != nil {
		return provisionOutcome{provisioned: applied}, err
	}
	return provisionOutcome{provisioned: check.Provisioned(rep), report: rep}, nil
}

// setOutcome writes provisioned digests, services and credentials.
func (m *containerResourceModel) setOutcome(ctx context.Context, o provisionOutcome) diag.Diagnostics {
	var diags diag.Diagnostics
	var d diag.Diagnostics
	m.Provisioned, d = types.MapValueFrom(ctx, types.StringType, nonNilMap(o.provisioned))
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
	m.Credentials, d = types.MapValueFrom(ctx, credentialsType, nonNilCredentials(o.report.Credentials))
	diags.Append(d...)
	return diags
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilCredentials(m map[string]map[string]string) map[string]map[string]string {
	if m == nil {
		return map[string]map[string]string{}
	}
	return m
}

// emptyOutcome is the state of a container that is not provisioned.
func (m *containerResourceModel) clearOutcome() {
	m.Provisioned = types.MapNull(types.StringType)
	m.Services = types.ListNull(serviceObjectType)
	m.Credentials = types.MapNull(credentialsType)
}

// provisioningError turns a provisioning failure into a diagnostic that
// names the step and shows its output tail.
func provisioningError(diags *diag.Diagnostics, node string, vmid int, err error) {
	var step *provision.StepError
	if errors.As(err, &step) {
		diags.AddError("Provisioning Failed", fmt.Sprintf(
			"Container %d on node %s: %s\n\nThe container stays in state, marked tainted: the next apply replaces it. "+
				"Last output lines of the step:\n%s", vmid, node, step.Summary(), strings.Join(step.Result.OutputTail, "\n")))
		return
	}
	diags.AddError("Provisioning Failed", fmt.Sprintf(
		"Container %d on node %s could not be provisioned: %v\n\nThe container stays in state, marked tainted: the next apply replaces it.", vmid, node, err))
}

// applyAccess changes root's SSH keys and password inside an existing
// container, which the Proxmox VE API can set only at creation.
func (r *containerResource) applyAccess(ctx context.Context, node string, vmid int, keys *string, password *string) error {
	if keys != nil {
		script := `umask 077; mkdir -p /root/.ssh && cat > /root/.ssh/authorized_keys.lxctm && mv /root/.ssh/authorized_keys.lxctm /root/.ssh/authorized_keys`
		if err := r.pctExec(ctx, node, vmid, []string{"/bin/sh", "-c", script}, strings.NewReader(strings.TrimSpace(*keys)+"\n"), nil); err != nil {
			return fmt.Errorf("writing root's authorized_keys: %w", err)
		}
	}
	if password != nil {
		if err := r.pctExec(ctx, node, vmid, []string{"chpasswd"}, strings.NewReader("root:"+*password+"\n"), nil); err != nil {
			return fmt.Errorf("setting root's password: %w", sanitized(err, *password))
		}
	}
	return nil
}

// sanitized keeps a secret out of an error text.
func sanitized(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "********"))
}

// checkDrift runs the drift check of a refresh: for a running, provisioned
// container, one pct exec compares managed files and packages with what
// was applied. Trouble reaching the container is a warning, not an error:
// the refresh still reports everything the API knows.
func (r *containerResource) checkDrift(ctx context.Context, state *containerResourceModel, diags *diag.Diagnostics) {
	p, d := r.provisioningOf(ctx, *state)
	diags.Append(d...)
	if !p.enabled || p.spec == nil || state.Status.ValueString() != "running" || r.data.SSH == nil {
		return
	}
	applied, d := provisionedOf(ctx, *state)
	diags.Append(d...)
	node, vmid, err := parseContainerID(state.ID.ValueString())
	if err != nil {
		return
	}
	outcome, err := r.checkContainer(ctx, node, int(vmid), *p.spec, applied)
	if err != nil {
		diags.AddWarning("Drift Check Skipped", fmt.Sprintf(
			"Container %d on node %s could not be checked for changes made inside it: %v", vmid, node, err))
		return
	}
	diags.Append(state.setOutcome(ctx, outcome)...)
}

// accessChanges returns root's new SSH keys and password when they
// changed since the last apply (nil when unchanged).
func (r *containerResource) accessChanges(ctx context.Context, req resource.UpdateRequest, plan, state containerResourceModel, diags *diag.Diagnostics) (keys, password *string) {
	if !plan.SSHPublicKeys.Equal(state.SSHPublicKeys) && known(plan.SSHPublicKeys) {
		keys = ptr(plan.SSHPublicKeys.ValueString())
	}
	if !plan.Password.Equal(state.Password) && known(plan.Password) {
		password = ptr(plan.Password.ValueString())
	}
	if !plan.PasswordWOVersion.Equal(state.PasswordWOVersion) {
		var wo types.String
		diags.Append(req.Config.GetAttribute(ctx, path.Root("password_wo"), &wo)...)
		if known(wo) {
			password = ptr(wo.ValueString())
		}
	}
	return keys, password
}

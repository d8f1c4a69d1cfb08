package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
)

// update is one Update of a container, phase by phase: loadTemplate,
// reconfigure through the API, work inside (access and provisioning),
// power, converge.
type update struct {
	r           *containerResource
	req         resource.UpdateRequest
	plan, prior *containerResourceModel
	state       *tfsdk.State
	diags       *diag.Diagnostics

	prov          provisioningSettings // with the template's content when a run is due
	applied       map[string]string    // the digests state says were applied
	needProvision bool
}

// loadTemplate decides whether the update provisions anything and, when it
// does, reads the template's content before anything changes: a template
// directory changed since the plan stops the apply here.
func (u *update) loadTemplate(ctx context.Context) bool {
	var diags diag.Diagnostics
	u.prov, diags = u.r.provisioningOf(*u.plan)
	u.diags.Append(diags...)
	u.applied, diags = provisionedOf(ctx, *u.prior)
	u.diags.Append(diags...)
	var err error
	u.needProvision, err = wouldProvision(u.prov, u.applied, u.plan.Hostname.ValueString())
	if err != nil {
		u.diags.AddAttributeError(path.Root("template"), "Template Cannot Be Provisioned", err.Error())
		return false
	}
	return !u.diags.HasError() && (!u.needProvision || u.prov.loadContent(u.diags))
}

// reconfigure grows disks and changes the config to what the plan says.
func (u *update) reconfigure(ctx context.Context, ref containerRef) (lxcconf.Change, bool) {
	want, diags := u.plan.desiredSettings(ctx)
	u.diags.Append(diags...)
	if u.diags.HasError() {
		return lxcconf.Change{}, false
	}
	return u.r.applySettings(ctx, ref, want, u.diags)
}

// applySettings grows disks and changes the config from what the container
// has to want: an update's reconfiguration, and a clone's own settings
// over those it copied from its golden image.
func (r *containerResource) applySettings(ctx context.Context, ref containerRef, want lxcconf.Settings, diags *diag.Diagnostics) (lxcconf.Change, bool) {
	api := r.data.API
	cfg, err := api.ContainerConfig(ctx, ref.node, ref.vmid)
	if err == nil && cfg.LockedByCreate() {
		switch r.clearStaleCreateLock(ctx, ref, diags) {
		case lockStays:
			return lxcconf.Change{}, false
		case lockRemoved:
			cfg, err = api.ContainerConfig(ctx, ref.node, ref.vmid) // the unlock rewrote it
		}
	}
	if err != nil {
		diags.AddError("Unable to Update Container", fmt.Sprintf("Reading the config of container %d on node %s failed: %v", ref.vmid, ref.node, err))
		return lxcconf.Change{}, false
	}
	cur, err := lxcconf.Parse(*cfg)
	if err != nil {
		addContainerError(diags, "Unexpected Container Config", ref, "%v", err)
		return lxcconf.Change{}, false
	}
	change, err := lxcconf.Diff(cur, want)
	if err != nil {
		addContainerError(diags, "Invalid Container Setting", ref, "%v. Correct the setting in the configuration.", err)
		return change, false
	}
	for _, rs := range change.Resizes {
		res, err := api.ResizeContainerDisk(ctx, ref.node, ref.vmid, rs.Disk, rs.Size)
		if err != nil {
			diags.AddError("Unable to Resize Disk", fmt.Sprintf("Growing %s of container %d on node %s to %s failed: %v", rs.Disk, ref.vmid, ref.node, rs.Size, err))
			return change, false
		}
		addTaskWarnings(diags, "Resizing "+rs.Disk, res)
	}
	if change.Config.Empty() {
		return change, true
	}
	digest := cfg.Digest
	if len(change.Resizes) > 0 {
		digest = "" // the resizes rewrote the config; PVE's own file lock still guards the write
	}
	tflog.Info(ctx, "updating container config", map[string]any{"set": change.Config.Keys(), "delete": change.Config.Deletes()})
	if err := api.UpdateContainerConfig(ctx, ref.node, ref.vmid, change.Config, digest); err != nil {
		diags.AddError("Unable to Update Container", fmt.Sprintf("Changing the config of container %d on node %s failed: %v", ref.vmid, ref.node, err))
		return change, false
	}
	return change, true
}

// workInside changes root's keys or password and provisions new or
// changed steps; both need the container running, so it is started when
// there is work. It returns whether the container now runs.
func (u *update) workInside(ctx context.Context, ref containerRef) (running, ok bool) {
	status, err := u.r.data.API.ContainerStatus(ctx, ref.node, ref.vmid)
	if err != nil {
		addContainerError(u.diags, "Unable to Read Container Status", ref, "%v", err)
		return false, false
	}
	running = status.Running()
	access := accessChanges(ctx, u.req, *u.plan, *u.prior, u.diags)
	if u.diags.HasError() {
		return running, false
	}
	if !u.prov.enabled {
		u.plan.clearOutcome()
	}
	if !u.needProvision && !access.changed() {
		return running, true
	}
	if !running {
		if err := u.r.start(ctx, ref, u.diags); err != nil {
			addContainerError(u.diags, "Unable to Start Container", ref, "it must run to be provisioned: %v", err)
			return false, false
		}
		running = true
	}
	if err := u.r.applyAccess(ctx, ref, access); err != nil {
		addContainerError(u.diags, "Unable to Change Root Access", ref, "%v", err)
		return running, false
	}
	if u.needProvision {
		return running, u.provision(ctx, ref, provisionJob{ref: ref, settings: u.prov, applied: u.applied, hostname: u.plan.Hostname.ValueString()})
	}
	return running, true
}

// provision runs the changed steps, guarded by a snapshot where
// rollback_on_failure applies (resource_container_rollback.go). A failure
// that was rolled back is recorded by the guard; any other keeps what was
// applied in state and reports the step.
func (u *update) provision(ctx context.Context, ref containerRef, job provisionJob) bool {
	guard, ok := u.guardProvisioning(ctx, ref)
	if !ok {
		return false
	}
	runCtx, cancel := guard.runContext(ctx)
	defer cancel()
	outcome, err := u.r.provision(runCtx, job)
	if err == nil {
		guard.release(ctx)
	} else if guard.undo(ctx, err) {
		return false
	}
	u.diags.Append(u.plan.setOutcome(ctx, outcome)...)
	if err == nil {
		return true
	}
	provisioningError(u.diags, ref, err, afterFailedUpdate)
	u.r.refreshAfterChange(ctx, ref, u.plan, u.diags)
	u.diags.Append(u.state.Set(ctx, u.plan)...)
	if raw, err := knownOnly(u.state.Raw); err == nil {
		u.state.Raw = raw
	}
	return false
}

// power brings the container to its planned run state, and reboots it for
// config changes that apply only at the next start.
func (u *update) power(ctx context.Context, ref containerRef, running, configChanged bool) bool {
	started := u.plan.Started.ValueBool()
	switch {
	case started && !running:
		if err := u.r.start(ctx, ref, u.diags); err != nil {
			addContainerError(u.diags, "Unable to Start Container", ref, "%v", err)
			return false
		}
	case !started && running:
		if err := u.r.shutdown(ctx, ref, u.diags); err != nil {
			addContainerError(u.diags, "Unable to Stop Container", ref, "%v", err)
			return false
		}
	case running && configChanged:
		u.r.applyPending(ctx, ref, u.plan.RebootOnPending.ValueBool(), u.diags)
	}
	return !u.diags.HasError()
}

// converge reads back what the container became and records it.
func (u *update) converge(ctx context.Context, ref containerRef) {
	u.r.refreshAfterChange(ctx, ref, u.plan, u.diags)
	if u.diags.HasError() {
		return
	}
	u.diags.Append(u.state.Set(ctx, u.plan)...)
}

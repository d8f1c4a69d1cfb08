package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// creation is one Create of a container, phase by phase: loadTemplate,
// resolveImage, create, trackNew, start, provision, converge. Each phase
// reports into diags and says whether the next may run (start always lets
// it: a container that does not start is kept).
type creation struct {
	r     *containerResource
	plan  *containerResourceModel
	state *tfsdk.State
	diags *diag.Diagnostics
	prov  provisioningSettings // with the template's content, once loaded
	// notStarted is set when the new container failed to start: it is
	// recorded as created but stopped and not provisioned, not tainted.
	notStarted bool
}

// loadTemplate reads the content of the template's scripts and files, when
// the container is provisioned, before anything is created: a template
// directory changed since the plan stops the apply here.
func (c *creation) loadTemplate() bool {
	var diags diag.Diagnostics
	c.prov, diags = c.r.provisioningOf(*c.plan)
	c.diags.Append(diags...)
	return !c.diags.HasError() && c.prov.loadContent(c.diags)
}

// resolveImage settles what the plan leaves to apply time (the storage),
// makes sure the node has the OS image, and builds the create parameters.
func (c *creation) resolveImage(ctx context.Context, password string) *pveapi.Params {
	api, node := c.r.data.API, c.plan.Node.ValueString()
	if c.plan.Storage.IsUnknown() {
		storage, err := api.DefaultContainerStorage(ctx, node)
		if err != nil {
			c.diags.AddAttributeError(path.Root("storage"), "No Storage for the Container", err.Error())
			return nil
		}
		c.plan.Storage = types.StringValue(storage)
	}
	want, diags := c.plan.desiredSettings(ctx)
	c.diags.Append(diags...)
	if c.diags.HasError() {
		return nil
	}
	params, err := want.CreateParams()
	if err != nil {
		c.diags.AddError("Invalid Container Setting", fmt.Sprintf(
			"The container on node %s cannot be created: %v. Correct the setting in the configuration.", node, err))
		return nil
	}
	image, ok := ensureImage(ctx, api, node, c.plan.OSTemplate.ValueString(), "", c.plan.OSTemplateSum, c.diags)
	if !ok {
		return nil
	}
	params.Set("ostemplate", image.VolID)
	if password != "" {
		params.Set("password", password)
	}
	if keys := strings.TrimSpace(c.plan.SSHPublicKeys.ValueString()); keys != "" {
		params.Set("ssh-public-keys", keys+"\n")
	}
	return params
}

// create asks PVE for the container and waits for its create task. A
// create whose outcome is unknown is tracked (tainted), never orphaned.
func (c *creation) create(ctx context.Context, params *pveapi.Params) (containerRef, bool) {
	api := c.r.data.API
	ref, upid, err := requestCreate(ctx, api, c.plan.Node.ValueString(), c.plan.VMID, params)
	var ambiguous *pveapi.AmbiguousCreateError
	switch {
	case errors.As(err, &ambiguous):
		// The create may have happened; Read sorts out whether it exists.
		tflog.Warn(ctx, "create outcome unknown; tracking the container", map[string]any{"vmid": ref.vmid})
		c.trackNew(ctx, ref)
		c.diags.AddError("Container Creation Uncertain", fmt.Sprintf(
			"The create request for container %d on node %s got no clear answer (%v). The container is tracked and marked "+
				"tainted; the next apply replaces it if it exists, or creates it again if it does not.", ref.vmid, ref.node, err))
		return ref, false
	case err != nil:
		c.diags.AddError("Unable to Create Container", createFailure(ref.node, err))
		return ref, false
	}
	ctx = tflog.SetField(ctx, "vmid", ref.vmid)
	c.r.data.invalidateCluster()
	tflog.Info(ctx, "creating container", map[string]any{"upid": upid})
	return ref, c.waitCreated(ctx, ref, upid)
}

// waitCreated waits for the create task.
func (c *creation) waitCreated(ctx context.Context, ref containerRef, upid string) bool {
	res, err := c.r.data.API.WaitTask(ctx, upid)
	var taskErr *pveapi.TaskError
	switch {
	case errors.As(err, &taskErr):
		c.failedTask(ctx, ref, err)
		return false
	case err != nil:
		// Timed out or cancelled while PVE is still working: keep it tracked.
		c.trackNew(ctx, ref)
		c.diags.AddError("Container Creation Did Not Finish", fmt.Sprintf(
			"Waiting for the creation of container %d on node %s failed: %v. The container is tracked and marked "+
				"tainted, so the next apply replaces it.", ref.vmid, ref.node, err))
		return false
	}
	addTaskWarnings(c.diags, "Creating the container", res)
	return true
}

// failedTask reports a create task that failed. PVE removes the config of
// a create that fails, but a task that died with PVE ("unexpected status")
// leaves it behind, locked: a container that exists, or cannot be told not
// to, is tracked (tainted), so the next apply removes it and creates it
// again instead of leaving an orphan under the same name.
func (c *creation) failedTask(ctx context.Context, ref containerRef, taskErr error) {
	_, err := c.r.data.API.ContainerConfig(ctx, ref.node, ref.vmid)
	if errors.Is(err, pveapi.ErrNotFound) {
		c.diags.AddError("Unable to Create Container", fmt.Sprintf(
			"Creating container %d on node %s failed, and Proxmox VE removed what it had begun: %v", ref.vmid, ref.node, taskErr))
		return
	}
	c.trackNew(ctx, ref)
	left := "Proxmox VE left its config behind"
	if err != nil {
		left = fmt.Sprintf("whether Proxmox VE left its config behind could not be read (%v)", err)
	}
	c.diags.AddError("Unable to Create Container", fmt.Sprintf(
		"Creating container %d on node %s failed: %v\n\n%s. The container is tracked and marked tainted, so the "+
			"next apply removes it (unlocking it first if the failed create left it locked) and creates it again.",
		ref.vmid, ref.node, taskErr, left))
}

// createFailure words a create request that failed with nothing created,
// by what failed: PVE refused it, or it never reached PVE.
func createFailure(node string, err error) string {
	var apiErr *pveapi.APIError
	var transport *pveapi.TransportError
	switch {
	case errors.As(err, &apiErr):
		return fmt.Sprintf("Proxmox VE refused to create the container on node %s: %v", node, err)
	case errors.As(err, &transport):
		return fmt.Sprintf("Proxmox VE could not be reached, so the container on node %s was not created: %v. Check "+
			"that the endpoint is reachable, then apply again.", node, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Sprintf("The container on node %s was not created: the create timeout or an interrupt ended the "+
			"apply before the request was sent (%v).", node, err)
	}
	return fmt.Sprintf("Creating the container on node %s failed, and nothing was created: %v", node, err)
}

// trackNew records a just-created container in state, with whatever is
// not known yet left empty.
func (c *creation) trackNew(ctx context.Context, ref containerRef) bool {
	c.plan.VMID = types.Int64Value(int64(ref.vmid))
	c.plan.ID = types.StringValue(ref.String())
	c.diags.Append(c.state.Set(ctx, c.plan)...)
	raw, err := knownOnly(c.state.Raw)
	if err != nil {
		addContainerError(c.diags, "Unable to Record Container", ref, "it exists but could not be recorded in state: %v", err)
		return false
	}
	c.state.Raw = raw
	return !c.diags.HasError()
}

// start boots the container when it should run or be provisioned. A
// container that does not start is still a good container: it is recorded
// (a warning, not an error that would taint it and have the next apply
// replace it), and the next apply starts it and provisions it.
func (c *creation) start(ctx context.Context, ref containerRef) {
	if !c.plan.Started.ValueBool() && !c.prov.runs() {
		return
	}
	if err := c.r.start(ctx, ref, c.diags); err != nil {
		c.notStarted = true
		c.diags.AddWarning("Container Did Not Start", fmt.Sprintf(
			"Container %d on node %s was created but did not start: %v\n\nIt is recorded as stopped and not "+
				"provisioned; the next apply starts it and provisions it. Fix the cause first if it needs fixing.",
			ref.vmid, ref.node, err))
	}
}

// provision applies the template inside the new container, then stops it
// again when it should not run.
func (c *creation) provision(ctx context.Context, ref containerRef) bool {
	if !c.prov.runs() || c.notStarted {
		c.plan.clearOutcome()
		return true
	}
	hostname := ""
	if known(c.plan.Hostname) {
		hostname = c.plan.Hostname.ValueString()
	}
	outcome, err := c.r.provision(ctx, provisionJob{ref: ref, settings: c.prov, create: true, hostname: hostname})
	c.diags.Append(c.plan.setOutcome(ctx, outcome)...)
	if err != nil {
		c.trackNew(ctx, ref)
		provisioningError(c.diags, ref, err, afterFailedCreate)
		return false
	}
	return c.stopUnlessStarted(ctx, ref, "provisioned")
}

// stopUnlessStarted stops the container again after it was made (done says
// how: "provisioned", "cloned") when the plan wants it stopped.
func (c *creation) stopUnlessStarted(ctx context.Context, ref containerRef, done string) bool {
	if c.plan.Started.ValueBool() {
		return true
	}
	if err := c.r.shutdown(ctx, ref, c.diags); err != nil {
		c.diags.AddError("Unable to Stop Container", fmt.Sprintf(
			"Container %d on node %s was %s but did not stop again (started = false): %v", ref.vmid, ref.node, done, err))
		return false
	}
	return true
}

// converge reads back what the container became and records it.
func (c *creation) converge(ctx context.Context, ref containerRef) {
	planned := c.plan.Started
	c.r.refreshAfterChange(ctx, ref, c.plan, c.diags)
	if c.diags.HasError() {
		return
	}
	if c.notStarted {
		// Terraform holds a create to the planned value of started; status
		// says stopped, and the next refresh records started = false, so
		// that plan starts it.
		c.plan.Started = planned
	}
	c.diags.Append(c.state.Set(ctx, c.plan)...)
}

// requestCreate sends the create of a container on node: with vmid when it
// is set, else with the next free VMID. It returns the container and its
// task; on an *pveapi.AmbiguousCreateError the reference names the VMID the
// container may exist under.
func requestCreate(ctx context.Context, api *pveapi.Client, node string, vmid types.Int64, params *pveapi.Params) (containerRef, string, error) {
	ref := containerRef{node: node}
	if known(vmid) {
		ref.vmid = int(vmid.ValueInt64())
		upid, err := api.CreateContainerAsync(ctx, node, ref.vmid, params)
		return ref, upid, err
	}
	var upid string
	var err error
	ref.vmid, upid, err = api.CreateContainerAutoAsync(ctx, node, params)
	return ref, upid, err
}

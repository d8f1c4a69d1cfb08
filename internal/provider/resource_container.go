package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

var (
	_ resource.ResourceWithConfigure    = (*containerResource)(nil)
	_ resource.ResourceWithImportState  = (*containerResource)(nil)
	_ resource.ResourceWithModifyPlan   = (*containerResource)(nil)
	_ resource.ResourceWithUpgradeState = (*containerResource)(nil)
)

// NewContainerResource is the constructor of pve_lxc_container.
func NewContainerResource() resource.Resource {
	return &containerResource{}
}

// containerResource is pve_lxc_container. Its CRUD methods only sequence
// named phases; the phases live in resource_container_{create,clone,update,
// refresh,power}.go and the blocks in container_*.go.
type containerResource struct {
	data *providerData
}

func (r *containerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lxc_container"
	// The identity's node follows a container migrated outside Terraform
	// (see resource_container_identity.go).
	resp.ResourceBehavior.MutableIdentity = true
}

func (r *containerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureAPIResource(req.ProviderData, "pve_lxc_container", &resp.Diagnostics)
}

// UpgradeState upgrades state of the spec shape before compact templates.
func (r *containerResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return upgradeSpecState("", "template")
}

func (r *containerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan containerResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// Whatever state Create leaves, tainted or not, carries its identity.
	defer recordIdentityOf(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	timeout, diags := plan.Timeouts.Create(ctx, r.data.Timeouts.Create)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = tflog.SetField(r.data.logContext(ctx), "node", plan.Node.ValueString())

	c := &creation{r: r, plan: &plan, state: &resp.State, diags: &resp.Diagnostics}
	if !c.loadTemplate() {
		return
	}
	if img := c.image(); img != nil { // resource_container_clone.go
		c.createByCloning(ctx, img, createPassword(ctx, req, plan, &resp.Diagnostics))
		return
	}
	params := c.resolveImage(ctx, createPassword(ctx, req, plan, &resp.Diagnostics))
	if resp.Diagnostics.HasError() {
		return
	}
	ref, ok := c.create(ctx, params)
	if !ok {
		return
	}
	// From here on the container exists: it is recorded first, so that any
	// later failure leaves it in state (tainted) rather than orphaned.
	if !c.trackNew(ctx, ref) {
		return
	}
	c.start(ctx, ref) // a container that does not start is kept, stopped
	if !c.provision(ctx, ref) {
		return
	}
	c.converge(ctx, ref)
}

func (r *containerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state containerResourceModel
	resp.Diagnostics.Append(getState(ctx, req.State, &state)...)
	// The identity comes from the prior state first: state written before
	// identities existed (or by Terraform < 1.12) has none, and a container
	// deleted outside Terraform still needs one as it drops out of state.
	recordIdentityOf(ctx, &req.State, resp.Identity, &resp.Diagnostics)
	ref, ok := refOf(state.ID, &resp.Diagnostics)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	r.data.noteTracked(ref.vmid)
	ctx, cancel := context.WithTimeout(r.data.logContext(ctx), r.data.Timeouts.Read)
	defer cancel()
	if gone := r.refresh(ctx, ref, &state, &resp.Diagnostics); gone {
		tflog.Warn(ctx, "container no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if resp.Diagnostics.HasError() {
		return
	}
	ref, _ = refOf(state.ID, &resp.Diagnostics) // a container migrated outside Terraform has a new node
	r.checkDrift(ctx, ref, &state, &resp.Diagnostics)
	resp.Diagnostics.Append(setState(ctx, &resp.State, &state)...)
	recordIdentityOf(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
}

func (r *containerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state containerResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	defer recordIdentityOf(ctx, &resp.State, resp.Identity, &resp.Diagnostics)
	timeout, diags := plan.Timeouts.Update(ctx, r.data.Timeouts.Update)
	resp.Diagnostics.Append(diags...)
	ref, ok := refOf(state.ID, &resp.Diagnostics)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	ctx, done := r.operationContext(ctx, ref, timeout)
	defer done()

	u := &update{r: r, req: req, plan: &plan, prior: &state, state: &resp.State, diags: &resp.Diagnostics}
	if !u.loadTemplate(ctx) {
		return
	}
	change, ok := u.reconfigure(ctx, ref)
	if !ok {
		return
	}
	running, ok := u.workInside(ctx, ref)
	if !ok || !u.power(ctx, ref, running, !change.Config.Empty()) {
		return
	}
	u.converge(ctx, ref)
}

func (r *containerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state containerResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	timeout, diags := state.Timeouts.Delete(ctx, r.data.Timeouts.Delete)
	resp.Diagnostics.Append(diags...)
	ref, ok := refOf(state.ID, &resp.Diagnostics)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	ctx, done := r.operationContext(ctx, ref, timeout)
	defer done()
	r.destroy(ctx, ref, &resp.Diagnostics)
}

// operationContext bounds an update or delete by its timeout, logs with
// the container's node and vmid, and drops the shared guest list when the
// returned done runs, since the operation changed the container.
func (r *containerResource) operationContext(ctx context.Context, ref containerRef, timeout time.Duration) (context.Context, func()) {
	ctx, stop := context.WithTimeout(ctx, timeout)
	ctx = tflog.SetField(r.data.logContext(ctx), "node", ref.node)
	ctx = tflog.SetField(ctx, "vmid", ref.vmid)
	return ctx, func() { r.data.invalidateCluster(); stop() }
}

func (r *containerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if ref, ok := importedRef(ctx, req, &resp.Diagnostics); ok {
		r.importState(ctx, ref, &resp.State, resp.Identity, &resp.Diagnostics)
	}
}

// createPassword is root's password at creation: password, else the
// write-only password_wo, read from the configuration since it is never
// in the plan.
func createPassword(ctx context.Context, req resource.CreateRequest, plan containerResourceModel, diags *diag.Diagnostics) string {
	if plan.Password.ValueString() != "" {
		return plan.Password.ValueString()
	}
	var wo types.String
	diags.Append(req.Config.GetAttribute(ctx, path.Root("password_wo"), &wo)...)
	return wo.ValueString()
}

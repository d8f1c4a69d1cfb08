package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Resource identity of pve_lxc_container (Terraform 1.12 and later): the
// node and vmid, the same two things the import ID "<node>/<vmid>" names.
// It is what `import { identity = {...} }` blocks and `terraform query`
// results carry.
//
// The identity is derived from the state's id, never kept separately, so it
// is set wherever state is: after Create (also when a create of uncertain
// outcome leaves the container tracked and tainted), Read, Update and
// ImportState. A container migrated to another node outside Terraform keeps
// its vmid but not its node; Read follows it, and the identity follows too,
// which is why the resource declares its identity mutable.

var _ resource.ResourceWithIdentity = (*containerResource)(nil)

// containerIdentityModel is the identity object.
type containerIdentityModel struct {
	Node types.String `tfsdk:"node"`
	VMID types.Int64  `tfsdk:"vmid"`
}

func (r *containerResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"node": identityschema.StringAttribute{
				Description:       "Proxmox VE node the container is on.",
				RequiredForImport: true,
			},
			"vmid": identityschema.Int64Attribute{
				Description:       "Container ID (unique in the cluster).",
				RequiredForImport: true,
			},
		},
	}
}

// identityOf is the identity a container reference has.
func identityOf(ref containerRef) containerIdentityModel {
	return containerIdentityModel{Node: types.StringValue(ref.node), VMID: types.Int64Value(int64(ref.vmid))}
}

// recordIdentityOf sets the identity from the id in state. A null state
// (nothing recorded, or the container is gone) leaves the identity alone.
// State is a pointer so that a deferred call sees the final state.
func recordIdentityOf(ctx context.Context, state *tfsdk.State, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	if identity == nil || state.Raw.IsNull() {
		return
	}
	var id types.String
	diags.Append(state.GetAttribute(ctx, path.Root("id"), &id)...)
	if !known(id) {
		return
	}
	ref, ok := refOf(id, diags)
	if !ok {
		return
	}
	diags.Append(identity.Set(ctx, identityOf(ref))...)
}

// importedRef is the container an import names: the import ID
// "<node>/<vmid>", or the identity of an `import { identity = {...} }`
// block.
func importedRef(ctx context.Context, req resource.ImportStateRequest, diags *diag.Diagnostics) (containerRef, bool) {
	if req.ID != "" {
		node, vmid, err := parseContainerID(req.ID)
		if err != nil {
			diags.AddError("Unexpected Import Identifier", "Import pve_lxc_container with <node>/<vmid>, e.g. pve/101: "+err.Error())
			return containerRef{}, false
		}
		return containerRef{node: node, vmid: int(vmid)}, true
	}
	var ident containerIdentityModel
	if req.Identity != nil {
		diags.Append(req.Identity.Get(ctx, &ident)...)
	}
	if diags.HasError() {
		return containerRef{}, false
	}
	node, vmid, err := parseContainerID(containerID(ident.Node.ValueString(), ident.VMID.ValueInt64()))
	if err != nil || !known(ident.Node) || !known(ident.VMID) {
		diags.AddError("Unexpected Import Identity", fmt.Sprintf(
			"Import pve_lxc_container with identity = { node = \"pve\", vmid = 101 }: node must be a node name and vmid "+
				"at least 100, got node %s and vmid %s.", ident.Node, ident.VMID))
		return containerRef{}, false
	}
	return containerRef{node: node, vmid: int(vmid)}, true
}

// importState writes what Read needs to find the container, and what Read
// cannot tell from the container's config: the import-time defaults of
// settings that exist only in Terraform, and the OS image, which only the
// create task's log names.
func (r *containerResource) importState(ctx context.Context, ref containerRef, state *tfsdk.State, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	diags.Append(state.SetAttribute(ctx, path.Root("id"), ref.String())...)
	diags.Append(state.SetAttribute(ctx, path.Root("node"), ref.node)...)
	diags.Append(state.SetAttribute(ctx, path.Root("vmid"), int64(ref.vmid))...)
	diags.Append(state.SetAttribute(ctx, path.Root("reboot_on_pending"), true)...)
	if identity != nil {
		diags.Append(identity.Set(ctx, identityOf(ref))...)
	}
	if r.data == nil || r.data.API == nil {
		return
	}
	if image := r.osImageOf(ctx, ref); image != "" {
		diags.Append(state.SetAttribute(ctx, path.Root("os_template"), newNormalizedString(normalizeOSTemplate, image))...)
	}
}

// osImageOf is the appliance a container was created from, as its create
// task's log names it. Best effort: "" when the log is gone or unreadable.
func (r *containerResource) osImageOf(ctx context.Context, ref containerRef) string {
	image, err := r.data.API.ContainerOSImage(r.data.logContext(ctx), ref.node, ref.vmid)
	if err != nil {
		tflog.Debug(ctx, "could not tell the container's OS image", map[string]any{"vmid": ref.vmid, "error": err.Error()})
		return ""
	}
	if image == "" {
		return ""
	}
	return applianceOf(image)
}

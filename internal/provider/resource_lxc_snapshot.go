package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

var (
	_ resource.ResourceWithConfigure   = (*lxcSnapshotResource)(nil)
	_ resource.ResourceWithImportState = (*lxcSnapshotResource)(nil)
)

// snapshotNameRE is PVE's pve-configid format (a letter, then letters,
// digits, '-' or '_') with the API's 40-character limit.
var snapshotNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{1,39}$`)

// NewLXCSnapshotResource is the constructor of pve_lxc_snapshot.
func NewLXCSnapshotResource() resource.Resource {
	return &lxcSnapshotResource{}
}

// lxcSnapshotResource is one named snapshot of a container.
type lxcSnapshotResource struct {
	data *providerData
}

type lxcSnapshotModel struct {
	ID          types.String          `tfsdk:"id"`
	Node        types.String          `tfsdk:"node"`
	VMID        types.Int64           `tfsdk:"vmid"`
	Name        types.String          `tfsdk:"name"`
	Description normalizedStringValue `tfsdk:"description"`
	SnapTime    types.Int64           `tfsdk:"snaptime"`
	Parent      types.String          `tfsdk:"parent"`
}

// snapshotRef names one snapshot: the resource id "<node>/<vmid>/<name>".
type snapshotRef struct {
	containerRef
	name string
}

func (s snapshotRef) String() string { return s.containerRef.String() + "/" + s.name }

func (m lxcSnapshotModel) ref() snapshotRef {
	return snapshotRef{containerRef: containerRef{node: m.Node.ValueString(), vmid: int(m.VMID.ValueInt64())}, name: m.Name.ValueString()}
}

// parseSnapshotID splits "<node>/<vmid>/<name>".
func parseSnapshotID(id string) (snapshotRef, error) {
	parts := strings.Split(id, "/")
	if len(parts) == 3 && parts[0] != "" && snapshotNameRE.MatchString(parts[2]) {
		if vmid, err := strconv.Atoi(parts[1]); err == nil && vmid >= 100 {
			return snapshotRef{containerRef: containerRef{node: parts[0], vmid: vmid}, name: parts[2]}, nil
		}
	}
	return snapshotRef{}, fmt.Errorf("expected <node>/<vmid>/<snapshot name> such as pve/101/before-upgrade, got %q", id)
}

func (r *lxcSnapshotResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lxc_snapshot"
}

func (r *lxcSnapshotResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureAPIResource(req.ProviderData, "pve_lxc_snapshot", &resp.Diagnostics)
}

func (r *lxcSnapshotResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A named snapshot of an LXC container: its volumes and config as they were when it was " +
			"taken. The container's volumes must be on storage that snapshots them (LVM-thin, ZFS, Ceph RBD, " +
			"BTRFS); Proxmox VE refuses otherwise. Only the description changes in place. A snapshot deleted " +
			"outside Terraform, or removed with its container, drops out of state.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<node>/<vmid>/<name>`, also the import ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"node": schema.StringAttribute{
				MarkdownDescription: "Node of the container. Changing it replaces the snapshot.",
				Required:            true,
				PlanModifiers:       replace,
				Validators: []validator.String{stringvalidator.RegexMatches(hostnameRE,
					"must be a Proxmox VE node name: letters, digits and inner hyphens")},
			},
			"vmid": schema.Int64Attribute{
				MarkdownDescription: "ID of the container, e.g. `pve_lxc_container.web.vmid`. Changing it replaces the snapshot.",
				Required:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
				CustomType:          wholeNumber(),
				Validators:          []validator.Int64{int64validator.Between(minVMID, maxVMID)},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Snapshot name: a letter, then letters, digits, `-` or `_`, 2 to 40 characters in " +
					"all; not `current` or `vzdump`, which Proxmox VE reserves. Changing it replaces the snapshot.",
				Required:      true,
				PlanModifiers: replace,
				Validators: []validator.String{
					stringvalidator.RegexMatches(snapshotNameRE,
						"must start with a letter and hold 2 to 40 letters, digits, '-' or '_' (Proxmox VE's configuration ID format)"),
					stringvalidator.NoneOf("current", "vzdump"),
				},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free text shown with the snapshot. Updated in place.",
				Optional:            true,
				CustomType:          normalizedStringType{normalizer: normalizeDescriptionText},
			},
			"snaptime": schema.Int64Attribute{
				MarkdownDescription: "When the snapshot was taken (Unix seconds).",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"parent": schema.StringAttribute{
				MarkdownDescription: "The snapshot this one was taken after; empty for the container's first. Deleting " +
					"the parent makes its own parent this snapshot's.",
				Computed: true,
			},
		},
	}
}

func (r *lxcSnapshotResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan lxcSnapshotModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ref := plan.ref()
	ctx, cancel := context.WithTimeout(r.data.logContext(ctx), r.data.Timeouts.Create)
	defer cancel()
	err := r.snapshotTask(ctx, ref, "Taking the snapshot", &resp.Diagnostics, func() (*pveapi.TaskResult, error) {
		return r.data.API.CreateSnapshot(ctx, ref.node, ref.vmid, ref.name, plan.Description.ValueString())
	})
	switch {
	case errors.Is(err, pveapi.ErrAlreadyExists):
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Snapshot Already Exists", fmt.Sprintf(
			"Container %d on node %s already has a snapshot named %q. Import it with `terraform import` and the ID %s, "+
				"or choose another name.", ref.vmid, ref.node, ref.name, ref))
		return
	case errors.Is(err, pveapi.ErrSnapshotUnsupported):
		resp.Diagnostics.AddError("Snapshots Not Supported", fmt.Sprintf(
			"Proxmox VE cannot snapshot container %d on node %s: %v. Its root filesystem and mount points must be volumes "+
				"on storage that snapshots them (LVM-thin, ZFS, Ceph RBD, BTRFS); raw files on a directory storage and bind "+
				"mounts cannot be snapshotted.", ref.vmid, ref.node, err))
		return
	case err != nil:
		resp.Diagnostics.AddError("Unable to Take Snapshot", fmt.Sprintf(
			"Taking snapshot %q of container %d on node %s failed: %v", ref.name, ref.vmid, ref.node, err))
		return
	}
	plan.ID = types.StringValue(ref.String())
	r.saveObserved(ctx, ref, &plan, "was taken but is gone right after", &resp.State, &resp.Diagnostics)
}

func (r *lxcSnapshotResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state lxcSnapshotModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(r.data.logContext(ctx), r.data.Timeouts.Read)
	defer cancel()
	if gone := r.observe(ctx, state.ref(), &state, &resp.Diagnostics); gone {
		tflog.Warn(ctx, "snapshot (or its container) no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *lxcSnapshotResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan lxcSnapshotModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ref := plan.ref()
	ctx, cancel := context.WithTimeout(r.data.logContext(ctx), r.data.Timeouts.Update)
	defer cancel()
	err := r.withSnapshotLock(ctx, ref, func() error {
		return r.data.API.UpdateSnapshotDescription(ctx, ref.node, ref.vmid, ref.name, plan.Description.ValueString())
	})
	if err != nil {
		resp.Diagnostics.AddError("Unable to Update Snapshot", fmt.Sprintf(
			"Changing the description of snapshot %q of container %d on node %s failed: %v", ref.name, ref.vmid, ref.node, err))
		return
	}
	r.saveObserved(ctx, ref, &plan, "is gone right after its description was changed", &resp.State, &resp.Diagnostics)
}

// saveObserved reads the snapshot Create or Update has just written back
// into plan and saves it. A snapshot gone by then (after says when) was
// deleted outside Terraform: an error, and nothing is saved.
func (r *lxcSnapshotResource) saveObserved(ctx context.Context, ref snapshotRef, plan *lxcSnapshotModel, after string, state *tfsdk.State, diags *diag.Diagnostics) {
	if gone := r.observe(ctx, ref, plan, diags); gone {
		diags.AddError("Snapshot Disappeared", fmt.Sprintf(
			"Snapshot %q of container %d on node %s %s; it was probably deleted outside Terraform. The next plan "+
				"takes it again.", ref.name, ref.vmid, ref.node, after))
		return
	}
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, plan)...)
}

func (r *lxcSnapshotResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state lxcSnapshotModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ref := state.ref()
	ctx, cancel := context.WithTimeout(r.data.logContext(ctx), r.data.Timeouts.Delete)
	defer cancel()
	err := r.snapshotTask(ctx, ref, "Deleting the snapshot", &resp.Diagnostics, func() (*pveapi.TaskResult, error) {
		return r.data.API.DeleteSnapshot(ctx, ref.node, ref.vmid, ref.name, false)
	})
	if err != nil && !errors.Is(err, pveapi.ErrNotFound) {
		resp.Diagnostics.AddError("Unable to Delete Snapshot", fmt.Sprintf(
			"Deleting snapshot %q of container %d on node %s failed: %v. The snapshot stays in state; apply again, or "+
				"delete it in the Proxmox VE UI.", ref.name, ref.vmid, ref.node, err))
	}
}

func (r *lxcSnapshotResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ref, err := parseSnapshotID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Unexpected Import Identifier", "Import pve_lxc_snapshot with <node>/<vmid>/<name>: "+err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), ref.String())...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("node"), ref.node)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("vmid"), int64(ref.vmid))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), ref.name)...)
}

// observe reads the snapshot into m; it reports whether the snapshot or
// its container is gone.
func (r *lxcSnapshotResource) observe(ctx context.Context, ref snapshotRef, m *lxcSnapshotModel, diags *diag.Diagnostics) (gone bool) {
	snap, err := r.data.API.GetSnapshot(ctx, ref.node, ref.vmid, ref.name)
	if errors.Is(err, pveapi.ErrNotFound) {
		return true
	}
	if err != nil {
		diags.AddError("Unable to Read Snapshot", fmt.Sprintf(
			"Reading snapshot %q of container %d on node %s failed: %v", ref.name, ref.vmid, ref.node, err))
		return false
	}
	m.ID = types.StringValue(ref.String())
	m.SnapTime = types.Int64Value(snap.SnapTime)
	m.Parent = types.StringValue(snap.Parent)
	if description := lxcconf.NormalizeDescription(snap.Description); description != "" || !m.Description.IsNull() {
		m.Description = newNormalizedString(normalizeDescriptionText, description)
	}
	return false
}

// snapshotTask runs one snapshot task of the container, serialised with
// the others of the same container in this provider, and surfaces its
// warnings.
func (r *lxcSnapshotResource) snapshotTask(ctx context.Context, ref snapshotRef, what string, diags *diag.Diagnostics, run func() (*pveapi.TaskResult, error)) error {
	return r.withSnapshotLock(ctx, ref, func() error {
		res, err := run()
		addTaskWarnings(diags, what, res)
		return err
	})
}

// withSnapshotLock runs fn while no other snapshot task of the container
// runs in this provider.
func (r *lxcSnapshotResource) withSnapshotLock(ctx context.Context, ref snapshotRef, fn func() error) error {
	release, err := r.data.snapshotTasks.acquire(ctx, ref.vmid)
	if err != nil {
		return fmt.Errorf("waiting for another snapshot task of container %d: %w", ref.vmid, err)
	}
	defer release()
	return fn()
}

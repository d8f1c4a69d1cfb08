package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

var (
	_ resource.ResourceWithConfigure    = (*lxcTemplateResource)(nil)
	_ resource.ResourceWithModifyPlan   = (*lxcTemplateResource)(nil)
	_ resource.ResourceWithUpgradeState = (*lxcTemplateResource)(nil)
)

// NewLXCTemplateResource is the constructor of pve_lxc_template.
func NewLXCTemplateResource() resource.Resource {
	return &lxcTemplateResource{}
}

// lxcTemplateResource finalises a template spec (source, overrides, bucket
// packages) in state and makes sure its OS image is on the node.
type lxcTemplateResource struct {
	data *providerData
}

type lxcTemplateModel struct {
	ID              types.String   `tfsdk:"id"`
	SourceSpec      types.String   `tfsdk:"source_spec"`
	SourceDir       types.String   `tfsdk:"source_dir"`
	Name            types.String   `tfsdk:"name"`
	Description     types.String   `tfsdk:"description"`
	Tags            types.Set      `tfsdk:"tags"`
	OSTemplate      types.String   `tfsdk:"os_template"`
	OSTemplateSum   types.String   `tfsdk:"os_template_checksum"`
	Defaults        *defaultsModel `tfsdk:"defaults"`
	Packages        types.List     `tfsdk:"packages"`
	Node            types.String   `tfsdk:"node"`
	Storage         types.String   `tfsdk:"storage"`
	OSTemplateVolID types.String   `tfsdk:"os_template_volid"`
	Spec            types.String   `tfsdk:"spec"`
	SHA256          types.String   `tfsdk:"sha256"`
	// The golden image (lxc_template_image.go).
	Image             *imageModel `tfsdk:"image"`
	ImageVMID         types.Int64 `tfsdk:"image_vmid"`
	RetiredImageVMIDs types.List  `tfsdk:"retired_image_vmids"`
}

// UpgradeState upgrades state of the spec shape before compact templates.
func (r *lxcTemplateResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return upgradeSpecState("sha256", "spec", "source_spec")
}

func (r *lxcTemplateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lxc_template"
}

func (r *lxcTemplateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureAPIResource(req.ProviderData, "pve_lxc_template", &resp.Diagnostics)
}

func (r *lxcTemplateResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	boolOverride := func(desc string) schema.BoolAttribute {
		return schema.BoolAttribute{MarkdownDescription: desc, Optional: true}
	}
	boundedInt := func(desc string, low, high int64) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc, Optional: true, CustomType: wholeNumber(),
			Validators: []validator.Int64{int64validator.Between(low, high)}}
	}
	resp.Schema = schema.Schema{
		Version: specStateVersion,
		MarkdownDescription: "A finalised template spec: a discovered spec or a template directory, with overrides and " +
			"the packages of buckets merged in. Its OS image is made available on `node` — downloaded through the " +
			"node's appliance index, or from its URL, when missing — and never deleted by this resource, since other " +
			"templates and containers may share it. Pass `spec` to `pve_lxc_container.template`. With an `image` block " +
			"it also builds a golden image that containers are cloned from instead of being provisioned from scratch.",
		Blocks: map[string]schema.Block{"image": imageBlock()},
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<node>/<name>`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"source_spec": schema.StringAttribute{
				MarkdownDescription: "The spec to start from, e.g. `data.pve_template_discovery.all.templates[\"web\"]` " +
					"(a spec's JSON document). Exactly one of `source_spec` and `source_dir`.",
				Optional:   true,
				Validators: []validator.String{specJSON(), stringvalidator.ExactlyOneOf(path.MatchRoot("source_dir"))},
			},
			"source_dir": schema.StringAttribute{
				MarkdownDescription: "One template directory (holding `template.conf`) to parse instead. Relative " +
					"paths resolve against the directory Terraform runs in; a changed file shows in the plan.",
				Optional: true,
			},
			"name":        schema.StringAttribute{MarkdownDescription: "Overrides the template name.", Optional: true},
			"description": schema.StringAttribute{MarkdownDescription: "Overrides the description.", Optional: true},
			"tags": schema.SetAttribute{
				MarkdownDescription: "Overrides the tags (normalised as Proxmox VE stores them).",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"os_template": schema.StringAttribute{
				MarkdownDescription: "Overrides the OS image: " + osTemplateDescription,
				Optional:            true,
			},
			"os_template_checksum": osTemplateChecksumAttribute("Containers built from this template's `spec` on " +
				"the same node use the file verified here; give a container on another node its own `os_template_checksum`."),
			"defaults": schema.SingleNestedAttribute{
				MarkdownDescription: "Overrides of individual container defaults; unset ones keep the source's.",
				Optional:            true,
				Attributes: map[string]schema.Attribute{
					"cores":        boundedInt("CPU cores (1–8192).", 1, maxCores),
					"memory":       boundedInt("Memory in MiB (16–8796093022207).", minMemoryMiB, maxMemoryMiB),
					"swap":         boundedInt("Swap in MiB (0–8796093022207).", 0, maxMemoryMiB),
					"disk_size":    boundedInt("Root filesystem in GiB (1–8589934591).", 1, maxDiskGiB),
					"storage":      schema.StringAttribute{MarkdownDescription: "Root filesystem storage.", Optional: true, Validators: []validator.String{storageID()}},
					"bridge":       schema.StringAttribute{MarkdownDescription: "Network bridge.", Optional: true, Validators: []validator.String{bridgeName()}},
					"unprivileged": boolOverride("Run containers unprivileged."),
					"features": schema.SingleNestedAttribute{
						MarkdownDescription: "Feature flags.",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"nesting": boolOverride("Allow nested containers."),
							"keyctl":  boolOverride("Allow keyctl()."),
							"fuse":    boolOverride("Allow FUSE."),
						},
					},
				},
			},
			"packages": schema.ListNestedAttribute{
				MarkdownDescription: "Extra packages, e.g. `concat(pve_package_bucket.base.packages, pve_package_bucket.web.packages)`, " +
					"merged after the source's own. The same package pinned to two versions is an error naming both buckets.",
				Optional:     true,
				NestedObject: schema.NestedAttributeObject{Attributes: rAttributes(packageFieldsOf(), false)},
			},
			"node": schema.StringAttribute{
				MarkdownDescription: "Node that must hold the OS image. Changing it replaces the resource.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"storage": schema.StringAttribute{
				MarkdownDescription: "Storage a missing OS image is downloaded to (default: the node's first storage for container templates).",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.String{storageID()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"os_template_volid": schema.StringAttribute{
				MarkdownDescription: "Volume id of the OS image on the node, e.g. `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. " +
					"When the image disappears from the node, the next plan downloads it again.",
				Computed: true,
			},
			"spec": schema.StringAttribute{
				MarkdownDescription: "The finalised spec, for `pve_lxc_container.template`: a compact JSON document " +
					"(scripts and files carry digests; their content is read from `source` at apply). Its fields:\n\n" +
					specDocumentation(),
				Computed: true,
			},
			"sha256": schema.StringAttribute{
				MarkdownDescription: "Digest of the finalised spec.",
				Computed:            true,
			},
			"image_vmid": schema.Int64Attribute{
				MarkdownDescription: "VMID of the golden image (a Proxmox VE template on `node`) when there is an `image` " +
					"block; `spec` carries it too, as `image.vmid`. When the image disappears from the node, the next plan " +
					"builds it again.",
				Computed: true,
			},
			"retired_image_vmids": schema.ListAttribute{
				MarkdownDescription: "Golden images this resource built that a newer one replaced but that are not removed " +
					"yet, because linked clones still use them (Proxmox VE refuses to delete a base volume in use) or removing " +
					"them failed. The first plan after their last linked clone is gone applies their removal; destroying the " +
					"resource removes them.",
				Computed:    true,
				ElementType: types.Int64Type,
			},
		},
	}
}

// ModifyPlan finalises the spec at plan time, so a changed source (spec,
// directory or bucket) shows in the plan, and plans a new download when
// the image has gone from the node.
func (r *lxcTemplateResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan lxcTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var state *lxcTemplateModel
	if !req.State.Raw.IsNull() {
		state = &lxcTemplateModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	spec, ok, diags := plan.finalSpec(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if ok {
		doc, diags := specDocument(spec)
		resp.Diagnostics.Append(diags...)
		plan.Spec = doc
		plan.SHA256 = types.StringValue(spec.SHA256)
		if known(plan.Node) {
			plan.ID = types.StringValue(plan.Node.ValueString() + "/" + spec.Name)
		}
	} else {
		plan.Spec = types.StringUnknown()
		plan.SHA256 = types.StringUnknown()
		plan.ID = types.StringUnknown()
	}
	r.planImage(ctx, &plan, state, spec, ok, &resp.Diagnostics)
	// The OS image is known to be in place when nothing about it changed and
	// the last refresh found it.
	plan.OSTemplateVolID = types.StringUnknown()
	if state != nil && ok && state.OSTemplateVolID.ValueString() != "" && plan.Node.Equal(state.Node) &&
		plan.Storage.Equal(state.Storage) && plan.OSTemplateSum.Equal(state.OSTemplateSum) && known(state.Spec) {
		prior, diags := specFromString(state.Spec, path.Root("spec"))
		resp.Diagnostics.Append(diags...)
		if prior.OSTemplate == spec.OSTemplate {
			plan.OSTemplateVolID = state.OSTemplateVolID
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *lxcTemplateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan lxcTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !resp.Diagnostics.HasError() {
		r.applyAndSave(ctx, &plan, nil, &resp.State, &resp.Diagnostics)
	}
}

func (r *lxcTemplateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior lxcTemplateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if !resp.Diagnostics.HasError() {
		r.applyAndSave(ctx, &plan, &prior, &resp.State, &resp.Diagnostics)
	}
}

// applyAndSave applies the plan and records what stands afterwards: the
// completed plan, or after a failed image build what exists (see
// applyImage). Unknown values left in a failure state are recorded as null.
func (r *lxcTemplateResource) applyAndSave(ctx context.Context, plan, prior *lxcTemplateModel, state *tfsdk.State, diags *diag.Diagnostics) {
	ctx = r.data.logContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, r.data.Timeouts.Create)
	defer cancel()
	saved := r.apply(ctx, plan, prior, diags)
	if saved == nil {
		return
	}
	diags.Append(state.Set(ctx, saved)...)
	if raw, err := knownOnly(state.Raw); err == nil {
		state.Raw = raw
	}
}

// apply finalises the spec, makes sure the node has its OS image and
// builds, keeps or removes the golden image. It returns the state to
// record (nil for none).
func (r *lxcTemplateResource) apply(ctx context.Context, plan, prior *lxcTemplateModel, diags *diag.Diagnostics) *lxcTemplateModel {
	spec, d := r.applyOSImage(ctx, plan)
	diags.Append(d...)
	if d.HasError() {
		return nil
	}
	return r.applyImage(ctx, plan, prior, spec, diags)
}

// applyOSImage finalises the spec and makes sure the node has its OS image.
func (r *lxcTemplateResource) applyOSImage(ctx context.Context, plan *lxcTemplateModel) (spec templatedir.Spec, diags diag.Diagnostics) {
	spec, ok, d := plan.finalSpec(ctx)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	if !ok {
		diags.AddError("Template Inputs Unknown", "An input of the template is still unknown at apply time; this is a bug in the provider.")
		return
	}
	node := plan.Node.ValueString()
	storage := ""
	if known(plan.Storage) {
		storage = plan.Storage.ValueString()
	}
	img, ok := ensureImage(ctx, r.data.API, node, spec.OSTemplate, storage, plan.OSTemplateSum, &diags)
	if !ok {
		return
	}
	tflog.Info(ctx, "OS image ready", map[string]any{"node": node, "volid": img.VolID, "downloaded": img.Downloaded})
	doc, d := specDocument(spec)
	diags.Append(d...)
	plan.Spec = doc
	plan.SHA256 = types.StringValue(spec.SHA256)
	plan.ID = types.StringValue(node + "/" + spec.Name)
	plan.OSTemplateVolID = types.StringValue(img.VolID)
	if !known(plan.Storage) {
		plan.Storage = types.StringValue(img.Storage)
	}
	return spec, diags
}

// Read checks that the OS image is still on the node; when it is gone the
// volid is cleared, so the next plan downloads it again. Likewise a golden
// image that is gone clears image_vmid (the next plan builds it again),
// and retired images that are gone drop out of retired_image_vmids.
func (r *lxcTemplateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state lxcTemplateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.logContext(ctx)
	if state.OSTemplateVolID.ValueString() != "" {
		_, err := r.data.API.FindOSImage(ctx, state.Node.ValueString(), state.OSTemplateVolID.ValueString())
		switch {
		case errors.Is(err, pveapi.ErrOSImageNotFound):
			tflog.Warn(ctx, "OS image no longer on the node; the next apply downloads it again", map[string]any{"volid": state.OSTemplateVolID.ValueString()})
			state.OSTemplateVolID = types.StringValue("")
		case err != nil:
			resp.Diagnostics.AddError("Unable to Check the OS Image", fmt.Sprintf("Looking for %s on node %s failed: %v",
				state.OSTemplateVolID.ValueString(), state.Node.ValueString(), err))
			return
		}
	}
	r.readImages(ctx, &state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete forgets the template and removes the golden images it built. The
// OS image stays: other templates and containers may use it.
func (r *lxcTemplateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state lxcTemplateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.logContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, r.data.Timeouts.Delete)
	defer cancel()
	r.deleteImages(ctx, &state, &resp.State, &resp.Diagnostics)
}

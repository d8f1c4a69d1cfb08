package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// The golden image of pve_lxc_template: its image block, and what a plan
// says about it. The build is lxc_template_build.go; retiring and removing
// images is lxc_template_retire.go.

// imageModel is the image block.
type imageModel struct {
	Storage types.String `tfsdk:"storage"`
	VMID    types.Int64  `tfsdk:"vmid"`
	Clone   types.String `tfsdk:"clone"`
	IP      types.String `tfsdk:"ip"`
	GW      types.String `tfsdk:"gw"`
}

func imageBlock() schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Build a **golden image** on `node`: a container is created from the OS image with the " +
			"template's defaults, provisioned with the whole spec (over SSH, so the provider needs an `ssh` block), " +
			"generalised (machine id, SSH host keys and saved credentials removed, package caches cleaned), stopped and " +
			"converted to a Proxmox VE template. Containers whose `template` is this resource's `spec` are then cloned from " +
			"it and run only their own part of provisioning. A changed spec builds a new image, switches `spec` to it and " +
			"removes the old one once no linked clone uses it. See the Golden images guide.",
		Attributes: map[string]schema.Attribute{
			"storage": schema.StringAttribute{
				MarkdownDescription: "Storage of the image's root filesystem, where linked clones live too. Default: the " +
					"template's `defaults.storage`, else the node's first storage for container volumes. Changing it " +
					"rebuilds the image.",
				Optional: true,
				Computed: true,
			},
			"vmid": schema.Int64Attribute{
				MarkdownDescription: "VMID of the image; allocated when unset. With a fixed VMID a rebuild removes the old " +
					"image before it builds the new one, so it fails while linked clones use the old image; without one the " +
					"new image gets a new VMID and the old one stays until its linked clones are gone.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(100, 999999999)},
			},
			"clone": schema.StringAttribute{
				MarkdownDescription: "How containers are cloned from the image: `linked` (copy-on-write, created in seconds, " +
					"keeps the image in use; needs LVM-thin, ZFS, Ceph RBD or Btrfs storage) or `full` (a copy). Default: " +
					"`linked` where the storage supports it, else `full`.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.OneOf(templatedir.CloneLinked, templatedir.CloneFull)},
			},
			"ip": schema.StringAttribute{
				MarkdownDescription: "IPv4 of the container the image is built in, which installs packages: `dhcp` " +
					"(default) or an address in CIDR form. It is on the template's bridge (else `vmbr0`).",
				Optional:   true,
				Validators: []validator.String{ipConfig(false)},
			},
			"gw": schema.StringAttribute{
				MarkdownDescription: "IPv4 gateway of the container the image is built in, with a static `ip`.",
				Optional:            true,
				Validators:          []validator.String{ipAddress(false)},
			},
		},
	}
}

// hasSSH says whether the provider can provision, which building an image
// needs.
func (r *lxcTemplateResource) hasSSH() bool { return r.data != nil && r.data.SSH != nil }

// imageOf is the golden image a template's state records: its spec's image
// object, with the VMID image_vmid holds (nil when there is none).
func imageOf(m *lxcTemplateModel) *templatedir.Image {
	if m == nil || !known(m.ImageVMID) || m.ImageVMID.ValueInt64() == 0 || !known(m.Spec) {
		return nil
	}
	spec, err := templatedir.ParseJSON(m.Spec.ValueString())
	if err != nil || spec.Image == nil {
		return nil
	}
	img := *spec.Image
	img.VMID = m.ImageVMID.ValueInt64()
	return &img
}

// retiredOf reads retired_image_vmids.
func retiredOf(ctx context.Context, m *lxcTemplateModel, diags *diag.Diagnostics) []int64 {
	if m == nil || !known(m.RetiredImageVMIDs) {
		return nil
	}
	var out []int64
	diags.Append(m.RetiredImageVMIDs.ElementsAs(ctx, &out, false)...)
	return out
}

// vmidList is a retired_image_vmids value.
func vmidList(vmids []int64) types.List {
	elems := make([]types.Int64, 0, len(vmids))
	for _, v := range vmids {
		elems = append(elems, types.Int64Value(v))
	}
	list, _ := types.ListValueFrom(context.Background(), types.Int64Type, elems)
	return list
}

// imagePlan is what an apply does about the image.
type imagePlan struct {
	prior   *templatedir.Image // the image state records, nil for none
	rebuild bool               // build a new image
}

// planImage plans image_vmid, retired_image_vmids, the image block's
// computed values and the image object of spec. A template whose spec (or
// image storage, or fixed VMID) changed rebuilds its image, and its spec
// is known only after the build.
func (r *lxcTemplateResource) planImage(ctx context.Context, plan, state *lxcTemplateModel, spec templatedir.Spec, specKnown bool, diags *diag.Diagnostics) {
	retired := retiredOf(ctx, state, diags)
	plan.RetiredImageVMIDs = vmidList(retired)
	decision := decideImage(plan, state, spec, specKnown)
	if plan.Image == nil {
		plan.ImageVMID = types.Int64Null()
		if decision.prior != nil {
			plan.RetiredImageVMIDs = types.ListUnknown(types.Int64Type) // the image is removed or retired
		}
		return
	}
	if !r.hasSSH() {
		diags.AddAttributeError(path.Root("image"), "Golden Images Need SSH",
			"A golden image is built by provisioning a container with pct exec on the node over SSH, and the provider has "+
				"no ssh block (or PVE_SSH_* settings). Add an ssh block to the provider, or remove the image block.")
		return
	}
	if decision.rebuild && specKnown {
		r.checkImageFeatures(spec, diags)
	}
	if decision.rebuild {
		plan.ImageVMID = types.Int64Unknown()
		if known(plan.Image.VMID) {
			plan.ImageVMID = plan.Image.VMID
		}
		plan.Spec = types.StringUnknown()
		if decision.prior != nil || len(retired) > 0 {
			plan.RetiredImageVMIDs = types.ListUnknown(types.Int64Type)
		}
		return
	}
	img := *decision.prior
	if known(plan.Image.Clone) {
		img.Clone = plan.Image.Clone.ValueString()
	}
	plan.Image.Clone = types.StringValue(img.Clone)
	plan.ImageVMID = types.Int64Value(img.VMID)
	spec.Image = &img
	doc, d := specDocument(spec)
	diags.Append(d...)
	plan.Spec = doc
	if len(retired) > 0 && r.someRetiredRemovable(ctx, plan.Node.ValueString(), retired) {
		plan.RetiredImageVMIDs = types.ListUnknown(types.Int64Type)
	}
}

// checkImageFeatures refuses, at plan time, an image whose container would
// need feature flags that only root@pam may set while the provider uses an
// API token (as pve_lxc_container's plan does for containers).
func (r *lxcTemplateResource) checkImageFeatures(spec templatedir.Spec, diags *diag.Diagnostics) {
	if r.data == nil || r.data.API == nil || !r.data.API.UsesAPIToken() {
		return
	}
	f, d := spec.Defaults.Features, spec.Defaults
	if f.Keyctl || f.Fuse || (!d.Unprivileged && f.Nesting) {
		diags.AddAttributeError(path.Root("image"), "Feature Flags Need root@pam",
			"The golden image is built in a container with the template's feature flags, and Proxmox VE lets only root@pam set "+
				"keyctl and fuse (and any flag of a privileged container); the provider authenticates with an API token ("+
				r.data.API.Identity()+"), which never counts as root@pam. Configure username = \"root@pam\" and password instead "+
				"of api_token, or drop those flags from the template's defaults.")
	}
}

// decideImage settles the image block's planned storage and clone mode and
// whether the image must be rebuilt.
func decideImage(plan, state *lxcTemplateModel, spec templatedir.Spec, specKnown bool) imagePlan {
	d := imagePlan{prior: imageOf(state)}
	if plan.Image == nil {
		return d
	}
	img := plan.Image
	if img.Storage.IsNull() || img.Storage.IsUnknown() {
		img.Storage = types.StringUnknown()
		switch {
		case specKnown && spec.Defaults.Storage != "":
			img.Storage = types.StringValue(spec.Defaults.Storage)
		case d.prior != nil:
			img.Storage = types.StringValue(d.prior.Storage)
		}
	}
	if img.Clone.IsNull() || img.Clone.IsUnknown() {
		img.Clone = types.StringUnknown()
		if d.prior != nil {
			img.Clone = types.StringValue(d.prior.Clone)
		}
	}
	d.rebuild = !specKnown || d.prior == nil || state.SHA256.ValueString() != spec.SHA256 ||
		(known(img.Storage) && img.Storage.ValueString() != d.prior.Storage) ||
		(known(img.VMID) && img.VMID.ValueInt64() != d.prior.VMID) ||
		!plan.Node.Equal(state.Node)
	return d
}

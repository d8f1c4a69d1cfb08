package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// applyImage builds, keeps or removes the golden image as the plan says,
// tries again to remove retired images, and completes the plan with the
// image (spec's image object, image_vmid, retired_image_vmids). After a
// failed build it returns what stands instead: the prior state with the
// failed build's container among the retired images, or for a new
// resource a state that records only that container (nil without one).
func (r *lxcTemplateResource) applyImage(ctx context.Context, plan, prior *lxcTemplateModel, spec templatedir.Spec, diags *diag.Diagnostics) *lxcTemplateModel {
	node := plan.Node.ValueString()
	decision := decideImage(plan, prior, spec, true)
	retired := retiredOf(ctx, prior, diags)
	var fresh []int64 // images this apply retires
	current := decision.prior
	switch {
	case plan.Image == nil:
		if current != nil {
			retired, fresh, current = append(retired, current.VMID), append(fresh, current.VMID), nil
		}
	case decision.rebuild:
		if current != nil && known(plan.Image.VMID) && plan.Image.VMID.ValueInt64() == current.VMID {
			if !r.makeRoomForImage(ctx, node, current.VMID, diags) {
				return failedImageState(plan, prior, retired)
			}
			current = nil
		}
		built, d := r.buildImage(ctx, imageBuild{node: node, spec: spec, osImage: plan.OSTemplateVolID.ValueString(), block: *plan.Image})
		diags.Append(d...)
		if built.leftover != 0 {
			retired = append(retired, built.leftover)
		}
		if built.image == nil {
			return failedImageState(plan, prior, retired)
		}
		if current != nil {
			retired, fresh = append(retired, current.VMID), append(fresh, current.VMID)
		}
		current = built.image
	case known(plan.Image.Clone) && plan.Image.Clone.ValueString() != current.Clone:
		mode, ok := r.checkCloneMode(ctx, current, plan.Image.Clone.ValueString(), diags)
		if !ok {
			return failedImageState(plan, prior, retired)
		}
		current.Clone = mode
	}
	retired = r.retire(ctx, node, uniqueVMIDs(retired), fresh, diags)
	plan.RetiredImageVMIDs = vmidList(retired)
	plan.ImageVMID = types.Int64Null()
	if current != nil {
		spec.Image = current
		plan.ImageVMID = types.Int64Value(current.VMID)
		plan.Image.Storage = types.StringValue(current.Storage)
		plan.Image.Clone = types.StringValue(current.Clone)
	}
	doc, d := specDocument(spec)
	diags.Append(d...)
	plan.Spec = doc
	return plan
}

// checkCloneMode checks a changed clone mode against the image's storage.
func (r *lxcTemplateResource) checkCloneMode(ctx context.Context, img *templatedir.Image, configured string, diags *diag.Diagnostics) (string, bool) {
	st, err := r.data.API.FindStorage(ctx, img.Node, img.Storage)
	if err != nil {
		diags.AddAttributeError(path.Root("image").AtName("clone"), "Unable to Check the Image's Storage", fmt.Sprintf(
			"Reading storage %s on node %s, which holds golden image %d, failed: %v", img.Storage, img.Node, img.VMID, err))
		return "", false
	}
	mode, err := cloneMode(st, configured)
	if err != nil {
		diags.AddAttributeError(path.Root("image").AtName("clone"), "Linked Clones Not Possible", err.Error())
		return "", false
	}
	return mode, true
}

// makeRoomForImage removes the old image at the fixed VMID the new one is
// built at; linked clones of it make that impossible.
func (r *lxcTemplateResource) makeRoomForImage(ctx context.Context, node string, vmid int64, diags *diag.Diagnostics) bool {
	err := r.removeImage(ctx, node, vmid)
	switch {
	case err == nil:
		return true
	case errors.Is(err, pveapi.ErrUsedByLinkedClones):
		diags.AddAttributeError(path.Root("image").AtName("vmid"), "Golden Image Still in Use", fmt.Sprintf(
			"The template changed, so its golden image must be rebuilt, and image.vmid fixes the image at VMID %d on node %s, "+
				"where the old image still is: linked clones use it, and Proxmox VE does not delete a base volume in use. "+
				"Nothing was changed. Remove image.vmid, so the new image gets a VMID of its own while the old one stays for "+
				"its clones, or replace the linked clones first.", vmid, node))
	default:
		diags.AddError("Unable to Remove the Old Golden Image", fmt.Sprintf(
			"The template changed, so golden image %d on node %s must be rebuilt at the same VMID, and removing the old image failed: %v. "+
				"Nothing else was changed.", vmid, node, err))
	}
	return false
}

// failedImageState is what a failed image build leaves in state: the prior
// state with the retired images (a new resource records only a leftover
// container, and nothing when there is none).
func failedImageState(plan, prior *lxcTemplateModel, retired []int64) *lxcTemplateModel {
	if prior != nil {
		out := *prior
		out.RetiredImageVMIDs = vmidList(uniqueVMIDs(retired))
		return &out
	}
	if len(retired) == 0 {
		return nil
	}
	out := *plan
	out.ImageVMID = types.Int64Null()
	out.RetiredImageVMIDs = vmidList(uniqueVMIDs(retired))
	return &out
}

// uniqueVMIDs drops repeated VMIDs, keeping the first of each.
func uniqueVMIDs(vmids []int64) []int64 {
	var out []int64
	for _, v := range vmids {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

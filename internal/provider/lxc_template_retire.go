package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// Removing golden images. An image a newer one replaced is removed at once
// when nothing uses it; Proxmox VE refuses while linked clones use its base
// volumes (on ZFS, Ceph RBD and directory storage; LVM-thin lets the base
// go and its clones keep their blocks), so it is then kept, listed in
// retired_image_vmids, and removed by a later apply. A plan sees when a
// retired image has no linked clones left the way Proxmox VE decides it (a
// volume named "<base volume>/…" on the image's storage) and plans that
// apply.

// removeImage destroys a golden image; one that is already gone is fine.
// It matches pveapi.ErrUsedByLinkedClones while linked clones use it.
func (r *lxcTemplateResource) removeImage(ctx context.Context, node string, vmid int64) error {
	res, err := r.data.API.DeleteContainer(ctx, node, int(vmid), pveapi.DeleteContainerOptions{Purge: true})
	if errors.Is(err, pveapi.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r.data.invalidateCluster()
	tflog.Info(ctx, "golden image removed", map[string]any{"vmid": vmid, "warnings": res.Warnings})
	return nil
}

// retire removes images that are no longer current and returns those it
// had to keep. fresh are the images retired by this apply: keeping one of
// those is a warning, keeping an image retired earlier is not news.
func (r *lxcTemplateResource) retire(ctx context.Context, node string, vmids, fresh []int64, diags *diag.Diagnostics) []int64 {
	var kept []int64
	for _, vmid := range vmids {
		err := r.removeImage(ctx, node, vmid)
		switch {
		case err == nil:
			continue
		case errors.Is(err, pveapi.ErrUsedByLinkedClones) && slices.Contains(fresh, vmid):
			diags.AddWarning("Old Golden Image Kept", fmt.Sprintf(
				"Golden image %d on node %s was replaced by a new one, but linked clones still use it, and Proxmox VE does not "+
					"delete a base volume in use. It is listed in retired_image_vmids; the first apply after its last linked "+
					"clone is gone removes it (destroying this resource removes it too).", vmid, node))
		case errors.Is(err, pveapi.ErrUsedByLinkedClones):
			tflog.Info(ctx, "retired golden image still has linked clones", map[string]any{"vmid": vmid})
		default:
			diags.AddWarning("Old Golden Image Not Removed", fmt.Sprintf(
				"Removing golden image %d on node %s failed: %v. It is listed in retired_image_vmids, and later applies try again.", vmid, node, err))
		}
		kept = append(kept, vmid)
	}
	return kept
}

// someRetiredRemovable says whether a plan should apply to remove retired
// images: one of them is gone already, or no volume on its storage is a
// linked clone of its base volumes any more. Errors count as "no": the
// next plan asks again.
func (r *lxcTemplateResource) someRetiredRemovable(ctx context.Context, node string, retired []int64) bool {
	if r.data == nil || r.data.API == nil {
		return false
	}
	contents := map[string][]pveapi.StorageVolume{}
	for _, vmid := range retired {
		inUse, err := r.imageInUse(ctx, node, vmid, contents)
		if err != nil {
			tflog.Debug(ctx, "cannot tell whether a retired golden image is still in use", map[string]any{"vmid": vmid, "error": err.Error()})
			continue
		}
		if !inUse {
			return true
		}
	}
	return false
}

// imageInUse reports whether a linked clone uses one of an image's volumes
// (false when the image is gone). contents caches storage listings.
func (r *lxcTemplateResource) imageInUse(ctx context.Context, node string, vmid int64, contents map[string][]pveapi.StorageVolume) (bool, error) {
	api := r.data.API
	cfg, err := api.ContainerConfig(ctx, node, int(vmid))
	if errors.Is(err, pveapi.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	settings, err := lxcconf.Parse(*cfg)
	if err != nil {
		return false, err
	}
	volumes := []string{settings.RootfsVolume}
	for _, mp := range settings.MountPoints {
		volumes = append(volumes, mp.Volume)
	}
	for _, volid := range volumes {
		storage, volname, ok := strings.Cut(volid, ":")
		if !ok {
			continue
		}
		if _, seen := contents[storage]; !seen {
			if contents[storage], err = api.StorageContent(ctx, node, storage, ""); err != nil {
				return false, err
			}
		}
		for _, v := range contents[storage] {
			if _, child, _ := strings.Cut(v.VolID, ":"); strings.HasPrefix(child, volname+"/") {
				return true, nil
			}
		}
	}
	return false, nil
}

// existingImages keeps the VMIDs of images that still exist on node.
func (r *lxcTemplateResource) existingImages(ctx context.Context, node string, vmids []int64) ([]int64, error) {
	var out []int64
	for _, vmid := range vmids {
		_, err := r.data.API.ContainerConfig(ctx, node, int(vmid))
		switch {
		case errors.Is(err, pveapi.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			out = append(out, vmid)
		}
	}
	return out, nil
}

// readImages refreshes the golden image and the retired images: a gone
// image clears image_vmid, so that the next plan builds it again.
func (r *lxcTemplateResource) readImages(ctx context.Context, state *lxcTemplateModel, diags *diag.Diagnostics) {
	node := state.Node.ValueString()
	if img := imageOf(state); img != nil {
		left, err := r.existingImages(ctx, node, []int64{img.VMID})
		switch {
		case err != nil:
			diags.AddError("Unable to Check the Golden Image", fmt.Sprintf("Reading golden image %d on node %s failed: %v", img.VMID, node, err))
			return
		case len(left) == 0:
			tflog.Warn(ctx, "golden image no longer on the node; the next apply builds it again", map[string]any{"vmid": img.VMID})
			state.ImageVMID = types.Int64Null()
		}
	}
	retired := retiredOf(ctx, state, diags)
	if len(retired) == 0 {
		return
	}
	left, err := r.existingImages(ctx, node, retired)
	if err != nil {
		diags.AddError("Unable to Check Retired Golden Images", fmt.Sprintf("Reading the retired golden images %v on node %s failed: %v", retired, node, err))
		return
	}
	state.RetiredImageVMIDs = vmidList(left)
}

// deleteImages removes the golden image and the retired images. An image
// Proxmox VE keeps for its linked clones fails the destroy; state then
// records what is left, and the resource stays.
func (r *lxcTemplateResource) deleteImages(ctx context.Context, state *lxcTemplateModel, tfState *tfsdk.State, diags *diag.Diagnostics) {
	node := state.Node.ValueString()
	vmids := retiredOf(ctx, state, diags)
	if img := imageOf(state); img != nil {
		vmids = append([]int64{img.VMID}, vmids...)
	}
	var left []int64
	for _, vmid := range uniqueVMIDs(vmids) {
		err := r.removeImage(ctx, node, vmid)
		switch {
		case err == nil:
			continue
		case errors.Is(err, pveapi.ErrUsedByLinkedClones):
			diags.AddError("Golden Image Still in Use", fmt.Sprintf(
				"Golden image %d of template %s on node %s cannot be removed: linked clones still use it, and Proxmox VE does not "+
					"delete a base volume in use. They are not (or no longer) managed with this configuration; destroy them "+
					"first, then destroy this resource again.", vmid, state.ID.ValueString(), node))
		default:
			diags.AddError("Unable to Remove a Golden Image", fmt.Sprintf("Removing golden image %d on node %s failed: %v", vmid, node, err))
		}
		left = append(left, vmid)
	}
	if len(left) == 0 {
		return
	}
	if img := imageOf(state); img == nil || !slices.Contains(left, img.VMID) {
		state.ImageVMID = types.Int64Null()
	}
	state.RetiredImageVMIDs = vmidList(slices.DeleteFunc(left, func(v int64) bool { return v == state.ImageVMID.ValueInt64() }))
	diags.Append(tfState.Set(ctx, state)...)
}

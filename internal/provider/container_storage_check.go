package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// A container's volumes (rootfs, mount points) can only go to a storage
// whose content types include "rootdir". A plan that puts one elsewhere
// (e.g. "local", a directory for images and backups) would fail at apply
// time — after a replacement had already destroyed the old container — so
// the storages a create or change allocates on are checked at plan time,
// against the node's storage list, which the lookup cache shares among all
// containers of a plan.

// containerContent is the storage content type of container volumes.
const containerContent = "rootdir"

// storageUse is a storage a plan allocates a volume on.
type storageUse struct {
	at      path.Path
	storage string
}

// checkStorages reports each storage the plan allocates a volume on that
// cannot hold container volumes on the node.
func (r *containerResource) checkStorages(ctx context.Context, in planInputs, plan containerResourceModel, diags *diag.Diagnostics) {
	if r.data == nil || r.data.API == nil || !known(plan.Node) {
		return
	}
	uses := in.newVolumeStorages(ctx, plan, diags)
	if len(uses) == 0 {
		return
	}
	node := plan.Node.ValueString()
	storages, err := r.data.API.NodeStorages(ctx, node)
	if err != nil {
		tflog.Warn(ctx, "could not list the node's storages; the apply finds out whether they hold containers", map[string]any{"node": node, "error": err.Error()})
		return
	}
	for _, u := range uses {
		if problem := containerStorageProblem(storages, node, u.storage); problem != "" {
			diags.AddAttributeError(u.at, "Storage Cannot Hold Container Volumes", problem)
		}
	}
}

// newVolumeStorages lists the storages the plan allocates new volumes on:
// all of them on create or on another node, else those that change.
func (in planInputs) newVolumeStorages(ctx context.Context, plan containerResourceModel, diags *diag.Diagnostics) []storageUse {
	st := in.state
	fresh := st == nil || !plan.Node.Equal(st.Node)
	var out []storageUse
	if known(plan.Storage) && (fresh || !plan.Storage.Equal(st.Storage)) {
		out = append(out, storageUse{at: path.Root("storage"), storage: plan.Storage.ValueString()})
	}
	var prior map[string]mountPointModel
	if !fresh {
		prior = mountPointModelsOf(ctx, st.MountPoints, diags)
	}
	planned := mountPointModelsOf(ctx, plan.MountPoints, diags)
	for _, slot := range slices.Sorted(maps.Keys(planned)) {
		mp := planned[slot]
		if p, had := prior[slot]; known(mp.Storage) && (!had || !p.Storage.Equal(mp.Storage)) {
			out = append(out, storageUse{at: path.Root("mount_points").AtMapKey(slot).AtName("storage"), storage: mp.Storage.ValueString()})
		}
	}
	return out
}

// containerStorageProblem says why storage cannot hold container volumes
// on node, or "" when it can.
func containerStorageProblem(storages []pveapi.Storage, node, storage string) string {
	var suitable, all []string
	var target *pveapi.Storage
	for i, s := range storages {
		all = append(all, s.Storage)
		if (s.Enabled || s.Active) && s.Holds(containerContent) {
			suitable = append(suitable, s.Storage)
		}
		if s.Storage == storage {
			target = &storages[i]
		}
	}
	hint := "No storage of node " + node + " holds container volumes; add rootdir to a storage's content in Proxmox VE."
	if len(suitable) > 0 {
		hint = fmt.Sprintf("Storages of node %s that hold container volumes: %s.", node, strings.Join(suitable, ", "))
	}
	switch {
	case target == nil:
		return fmt.Sprintf("Node %s has no storage %q (it has %s). %s", node, storage, strings.Join(all, ", "), hint)
	case !target.Enabled && !target.Active:
		return fmt.Sprintf("Storage %q is disabled on node %s. %s", storage, node, hint)
	case !target.Holds(containerContent):
		content := target.Content
		if content == "" {
			content = "no content types"
		}
		return fmt.Sprintf("Storage %q on node %s holds %s, not container volumes: its content types lack %q. Pick a "+
			"storage that holds them, or add %s to this storage's content in Proxmox VE. %s",
			storage, node, content, containerContent, containerContent, hint)
	}
	return ""
}

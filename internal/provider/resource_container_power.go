package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// shutdownTimeout is how long a clean shutdown may take before the
// container is stopped hard.
const shutdownTimeout = 60

// start boots a container; one that already runs is fine.
func (r *containerResource) start(ctx context.Context, ref containerRef, diags *diag.Diagnostics) error {
	res, err := r.data.API.StartContainer(ctx, ref.node, ref.vmid)
	if errors.Is(err, pveapi.ErrAlreadyRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	addTaskWarnings(diags, "Starting the container", res)
	return nil
}

// shutdown stops a running container cleanly, forcing it after the timeout.
func (r *containerResource) shutdown(ctx context.Context, ref containerRef, diags *diag.Diagnostics) error {
	res, err := r.data.API.ShutdownContainer(ctx, ref.node, ref.vmid, shutdownTimeout, true)
	if err == nil {
		addTaskWarnings(diags, "Shutting down the container", res)
		return nil
	}
	if errors.Is(err, pveapi.ErrNotRunning) {
		return nil
	}
	tflog.Warn(ctx, "clean shutdown failed; stopping", map[string]any{"error": err.Error()})
	res, err = r.data.API.StopContainer(ctx, ref.node, ref.vmid)
	if err != nil && !errors.Is(err, pveapi.ErrNotRunning) {
		return err
	}
	addTaskWarnings(diags, "Stopping the container", res)
	return nil
}

// applyPending reboots a running container whose update left changes that
// apply only at the next start, when reboot_on_pending allows it.
func (r *containerResource) applyPending(ctx context.Context, ref containerRef, rebootAllowed bool, diags *diag.Diagnostics) {
	pending, err := r.data.API.ContainerPending(ctx, ref.node, ref.vmid)
	if err != nil {
		addContainerError(diags, "Unable to Read Pending Changes", ref, "%v", err)
		return
	}
	var keys []string
	for _, p := range pending {
		if p.Pending != "" || p.Delete != 0 {
			keys = append(keys, p.Key)
		}
	}
	if len(keys) == 0 {
		return
	}
	if !rebootAllowed {
		diags.AddWarning("Changes Pending Until Restart", fmt.Sprintf(
			"Container %d on node %s applies %s only at its next start, and reboot_on_pending is false. "+
				"Restart it when convenient; until then the plan shows these values as applied.", ref.vmid, ref.node, strings.Join(keys, ", ")))
		return
	}
	tflog.Info(ctx, "rebooting container to apply pending changes", map[string]any{"pending": keys})
	res, err := r.data.API.RebootContainer(ctx, ref.node, ref.vmid)
	if err != nil {
		diags.AddError("Unable to Reboot Container", fmt.Sprintf(
			"Container %d on node %s has pending changes (%s) and the reboot to apply them failed: %v", ref.vmid, ref.node, strings.Join(keys, ", "), err))
		return
	}
	addTaskWarnings(diags, "Rebooting the container", res)
}

// destroy stops the container (cleanly, then forced) and destroys it with
// its unreferenced disks; one that is already gone is fine.
func (r *containerResource) destroy(ctx context.Context, ref containerRef, diags *diag.Diagnostics) {
	status, err := r.data.API.ContainerStatus(ctx, ref.node, ref.vmid)
	if errors.Is(err, pveapi.ErrNotFound) {
		return
	}
	if err != nil {
		diags.AddError("Unable to Delete Container", fmt.Sprintf("Reading the status of container %d on node %s failed: %v", ref.vmid, ref.node, err))
		return
	}
	if status.Running() {
		if err := r.shutdown(ctx, ref, diags); err != nil && !errors.Is(err, pveapi.ErrNotFound) {
			diags.AddError("Unable to Stop Container", fmt.Sprintf("Container %d on node %s must stop before it is destroyed: %v", ref.vmid, ref.node, err))
			return
		}
	}
	res, err := r.deleteContainer(ctx, ref, diags)
	if errors.Is(err, pveapi.ErrNotFound) || errors.Is(err, errReported) {
		return
	}
	if err != nil {
		diags.AddError("Unable to Delete Container", fmt.Sprintf("Destroying container %d on node %s failed: %v", ref.vmid, ref.node, err))
		return
	}
	addTaskWarnings(diags, "Destroying the container", res)
}

// errReported is an error already reported in diags.
var errReported = errors.New("reported")

// deleteContainer destroys the container with its volumes; one that a dead
// create left locked is unlocked first (errReported when it cannot be).
func (r *containerResource) deleteContainer(ctx context.Context, ref containerRef, diags *diag.Diagnostics) (*pveapi.TaskResult, error) {
	opts := pveapi.DeleteContainerOptions{Purge: true, DestroyUnreferencedDisks: true}
	res, err := r.data.API.DeleteContainer(ctx, ref.node, ref.vmid, opts)
	if !errors.Is(err, pveapi.ErrLocked) {
		return res, err
	}
	switch r.clearStaleCreateLock(ctx, ref, diags) {
	case lockRemoved:
		return r.data.API.DeleteContainer(ctx, ref.node, ref.vmid, opts)
	case lockStays:
		return nil, errReported
	}
	return res, err
}

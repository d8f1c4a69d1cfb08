package provider

import (
	"context"
	"errors"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// A create task that dies with Proxmox VE (a restart or crash while it
// runs: status "unexpected status") leaves the container's config behind
// with the "create" lock, and nothing ever removes it: PVE then refuses to
// change, start or destroy the container, so every apply would fail with
// "CT is locked (create)". Wherever the provider meets such a container
// (the refresh of a tracked one, an update, a destroy — a tainted one is
// destroyed before it is created again) it lifts a lock whose task has
// ended with `pct unlock <vmid>` over SSH, or, without an ssh block, says
// which command to run on the node. A lock whose create still runs is left
// alone.

// lockOutcome is what clearStaleCreateLock found and did.
type lockOutcome int

const (
	lockNotStale lockOutcome = iota // no create lock, or its create still runs
	lockRemoved                     // a stale lock was removed
	lockStays                       // a stale lock stays (reported as an error)
)

// clearStaleCreateLock removes the container's stale create lock, if it has
// one; a lock it cannot remove is reported as an error in diags.
func (r *containerResource) clearStaleCreateLock(ctx context.Context, ref containerRef, diags *diag.Diagnostics) lockOutcome {
	stale, err := r.data.API.CreateLockIsStale(ctx, ref.node, ref.vmid)
	switch {
	case errors.Is(err, pveapi.ErrNotFound):
		return lockNotStale
	case err != nil:
		addContainerError(diags, "Unable to Check Container Lock", ref,
			"whether the create that locked it still runs could not be read: %v", err)
		return lockStays
	case !stale:
		return lockNotStale
	}
	command := strings.Join(pctUnlockArgv(ref.vmid), " ")
	if !r.hasSSH() {
		addContainerError(diags, "Container Locked by a Failed Create", ref, "its create task ended without finishing "+
			"(Proxmox VE restarted or the node crashed while it ran) and left the config locked (lock: create), so "+
			"Proxmox VE refuses to change, start or destroy it. Run `%s` on node %s, then run Terraform again; with "+
			"the provider's ssh block configured, the provider runs it itself.", command, ref.node)
		return lockStays
	}
	tflog.Info(ctx, "removing a stale create lock", map[string]any{"vmid": ref.vmid, "node": ref.node})
	if err := r.pctUnlock(ctx, ref); err != nil {
		addContainerError(diags, "Unable to Unlock Container", ref, "its create task ended without finishing and left "+
			"the config locked (lock: create); `%s` on node %s failed: %v. Run it on the node, then run Terraform again.",
			command, ref.node, err)
		return lockStays
	}
	addContainerWarning(diags, "Stale Create Lock Removed", ref, "its create task had ended without finishing "+
		"(Proxmox VE restarted or the node crashed while it ran) and left the config locked; the provider ran `%s` "+
		"on node %s.", command, ref.node)
	return lockRemoved
}

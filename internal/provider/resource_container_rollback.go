package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// provisioning.rollback_on_failure of pve_lxc_container: an update's
// provisioning run is guarded by a snapshot taken right before it. A
// failed run is rolled back (the container started again) and the snapshot
// deleted; a successful run deletes it. Whether the container can be
// snapshotted is judged at apply time from the storage types of its
// volumes, and the snapshot task has the last word; an explicit true is
// also checked at plan time. Creation is never guarded: a failed create
// leaves the container tainted, so the next apply replaces it.

func rollbackOnFailureAttribute() schema.BoolAttribute {
	return schema.BoolAttribute{
		MarkdownDescription: "On update, take a snapshot of the container right before a provisioning run, roll " +
			"back to it (and start the container again) when the run fails, and delete it afterwards either way: a " +
			"failed update leaves nothing of its provisioning behind, and the next plan shows the update again. " +
			"Default: on when every volume of the container is on storage that can snapshot it (LVM-thin, ZFS, " +
			"Ceph RBD, BTRFS); otherwise the apply warns and provisions without a snapshot. `true` makes a container " +
			"that cannot be snapshotted an error (at plan time when the storage types tell); `false` never takes a " +
			"snapshot. Creation is never rolled back: a container whose first provisioning fails is tainted.",
		Optional: true,
	}
}

// rollbackMode is what rollback_on_failure asks for.
type rollbackMode int

const (
	rollbackWherePossible rollbackMode = iota // unset: guard when the storage can snapshot
	rollbackRequired                          // true: guard, or fail
	rollbackOff                               // false: never guard
)

func rollbackModeOf(m containerResourceModel) rollbackMode {
	switch {
	case m.Provisioning == nil || !known(m.Provisioning.RollbackOnFailure):
		return rollbackWherePossible
	case m.Provisioning.RollbackOnFailure.ValueBool():
		return rollbackRequired
	}
	return rollbackOff
}

const (
	// guardSnapshotPrefix starts the names of the snapshots taken before
	// provisioning runs ("tfpve-pre-<unix seconds>", PVE's configid format).
	guardSnapshotPrefix      = "tfpve-pre-"
	guardSnapshotDescription = "Taken by terraform-provider-pve before a provisioning run; deleted when the run ends."
	// rollbackReserve is the share of an update's timeout kept back from
	// the provisioning run, so that a run cut off by the timeout can still
	// be rolled back (at most a quarter of what is left).
	rollbackReserve = 2 * time.Minute
)

var rollbackAttribute = path.Root("provisioning").AtName("rollback_on_failure")

// planRollback refuses rollback_on_failure = true at plan time when the
// plan provisions the container and the types of the storages its volumes
// are planned on cannot snapshot them. It costs one request (the node's
// storage list), made only for such plans.
func (r *containerResource) planRollback(ctx context.Context, in planInputs, plan containerResourceModel, diags *diag.Diagnostics) {
	if rollbackModeOf(in.config) != rollbackRequired || !plan.Provisioned.IsUnknown() || !known(plan.Node) || !known(plan.Storage) ||
		plan.MountPoints.IsUnknown() || r.data == nil || r.data.API == nil {
		return
	}
	planned := lxcconf.Settings{Storage: plan.Storage.ValueString()}
	if known(plan.MountPoints) {
		planned.MountPoints = mountPointsToLXC(ctx, plan.MountPoints, diags)
	}
	check, err := r.snapshotCheck(ctx, plan.Node.ValueString(), planned)
	if err != nil {
		tflog.Warn(ctx, "could not list the node's storages; the apply checks snapshot support", map[string]any{"error": err.Error()})
		return
	}
	if !check.Possible() {
		diags.AddAttributeError(rollbackAttribute, "Rollback Needs Snapshots", fmt.Sprintf(
			"rollback_on_failure = true needs a snapshot of the container before each provisioning run, and Proxmox VE "+
				"cannot snapshot %s. Put the volumes on storage that snapshots containers (LVM-thin, ZFS, Ceph RBD, BTRFS), "+
				"or set rollback_on_failure = false (or leave it unset, which provisions without a snapshot where none "+
				"is possible, with a warning).", strings.Join(check.Blockers, ", ")))
	}
}

// snapshotCheck judges settings by the types of node's storages.
func (r *containerResource) snapshotCheck(ctx context.Context, node string, s lxcconf.Settings) (lxcconf.SnapshotCheck, error) {
	storages, err := r.data.API.ListStorage(ctx, node, "")
	if err != nil {
		return lxcconf.SnapshotCheck{}, err
	}
	return lxcconf.CheckSnapshots(s, storages), nil
}

// provisioningGuard is the snapshot an update's provisioning run is rolled
// back to. Its methods accept a nil guard: an unguarded run.
type provisioningGuard struct {
	u        *update
	ref      containerRef
	snapshot string
}

// guardProvisioning takes the snapshot before an update's provisioning run
// in the (running) container. It returns a nil guard when the run goes
// unguarded: rollback_on_failure = false, or the default where the
// container cannot be snapshotted (warned once). It returns false when the
// update must stop before provisioning; state then records the update
// without its provisioning.
func (u *update) guardProvisioning(ctx context.Context, ref containerRef) (*provisioningGuard, bool) {
	mode := rollbackModeOf(*u.plan)
	if mode == rollbackOff {
		return nil, true
	}
	check, err := u.currentSnapshotCheck(ctx, ref)
	switch {
	case err != nil:
		tflog.Debug(ctx, "snapshot support unknown from the storage types; the snapshot task decides", map[string]any{"error": err.Error()})
	case !check.Possible():
		return nil, u.runUnguarded(ctx, ref, mode, "Proxmox VE cannot snapshot "+strings.Join(check.Blockers, ", "))
	}
	release, err := u.r.data.snapshotTasks.acquire(ctx, ref.vmid)
	if err != nil {
		addContainerError(u.diags, "Unable to Snapshot Before Provisioning", ref, "%v", err)
		u.recordWithoutProvisioning(ctx, ref)
		return nil, false
	}
	defer release()
	name := guardSnapshotPrefix + strconv.FormatInt(time.Now().Unix(), 10)
	res, err := u.r.data.API.CreateSnapshot(ctx, ref.node, ref.vmid, name, guardSnapshotDescription)
	addTaskWarnings(u.diags, "Taking the snapshot before provisioning", res)
	switch {
	case errors.Is(err, pveapi.ErrSnapshotUnsupported):
		return nil, u.runUnguarded(ctx, ref, mode, "Proxmox VE refused the snapshot: "+err.Error())
	case err != nil:
		addContainerError(u.diags, "Unable to Snapshot Before Provisioning", ref,
			"the snapshot %s, taken so that a failed provisioning run can be rolled back, failed: %v. Nothing was provisioned; "+
				"settings this apply changed through the Proxmox VE API are kept. Apply again, or set "+
				"provisioning.rollback_on_failure = false to provision without a snapshot.", name, err)
		u.recordWithoutProvisioning(ctx, ref)
		return nil, false
	}
	tflog.Info(ctx, "took a snapshot before provisioning", map[string]any{"snapshot": name})
	return &provisioningGuard{u: u, ref: ref, snapshot: name}, true
}

// currentSnapshotCheck judges the container's volumes as its config has them.
func (u *update) currentSnapshotCheck(ctx context.Context, ref containerRef) (lxcconf.SnapshotCheck, error) {
	cfg, err := u.r.data.API.ContainerConfig(ctx, ref.node, ref.vmid)
	if err != nil {
		return lxcconf.SnapshotCheck{}, err
	}
	settings, err := lxcconf.Parse(*cfg)
	if err != nil {
		return lxcconf.SnapshotCheck{}, err
	}
	return u.r.snapshotCheck(ctx, ref.node, settings)
}

// runUnguarded handles a container that cannot be snapshotted: by default
// a warning, and the run goes ahead as without rollback_on_failure; with
// rollback_on_failure = true an error before anything is provisioned.
func (u *update) runUnguarded(ctx context.Context, ref containerRef, mode rollbackMode, why string) bool {
	if mode == rollbackRequired {
		u.diags.AddAttributeError(rollbackAttribute, "Rollback Needs Snapshots", fmt.Sprintf(
			"Container %d on node %s must be snapshotted before provisioning (rollback_on_failure = true), but %s. "+
				"Nothing was provisioned; settings this apply changed through the Proxmox VE API are kept. Put the volumes "+
				"on storage that snapshots containers (LVM-thin, ZFS, Ceph RBD, BTRFS), or set rollback_on_failure = false.",
			ref.vmid, ref.node, why))
		u.recordWithoutProvisioning(ctx, ref)
		return false
	}
	u.diags.AddWarning("Provisioning Without Rollback", fmt.Sprintf(
		"Container %d on node %s is provisioned without a snapshot to roll back to, because %s: if the run fails, "+
			"what it applied stays in the container. Put the volumes on storage that snapshots containers (LVM-thin, "+
			"ZFS, Ceph RBD, BTRFS), or set provisioning.rollback_on_failure = false to provision without this warning.",
		ref.vmid, ref.node, why))
	return true
}

// runContext bounds the provisioning run so that a rollback keeps part of
// the update's timeout.
func (g *provisioningGuard) runContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if g == nil || !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(rollbackReserve, time.Until(deadline)/4)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// release deletes the snapshot after a successful run.
func (g *provisioningGuard) release(ctx context.Context) {
	if g != nil {
		g.deleteSnapshot(ctx)
	}
}

// undo rolls the container back after the failed run, which starts it
// again, deletes the snapshot and records state: the settings as Proxmox
// VE reports them, the previous template and provisioning results. It
// reports false when there is no guard or the rollback failed: the
// failure is then handled as without a snapshot, which is kept for a
// rollback by hand.
func (g *provisioningGuard) undo(ctx context.Context, runErr error) bool {
	if g == nil {
		return false
	}
	u, ref := g.u, g.ref
	res, err := g.rollback(ctx)
	addTaskWarnings(u.diags, "Rolling back", res)
	var startErr *pveapi.StartAfterRollbackError
	if err != nil && !errors.As(err, &startErr) {
		addContainerError(u.diags, "Rollback Failed", ref,
			"provisioning failed, and rolling back to the snapshot %s taken right before it failed too: %v. The container "+
				"keeps what the run applied. The snapshot is kept so that you can roll back by hand (in the Proxmox VE UI, or "+
				"`pct rollback %d %s` on the node) and then delete it.", g.snapshot, err, ref.vmid, g.snapshot)
		return false
	}
	deleted := g.deleteSnapshot(ctx)
	u.diags.AddError("Provisioning Failed, Container Rolled Back", rolledBackDetail(ref, runErr, g.snapshot, deleted, startErr))
	u.recordWithoutProvisioning(ctx, ref)
	return true
}

// rollback rolls the container back to the snapshot and starts it again:
// provisioning only runs in a running container.
func (g *provisioningGuard) rollback(ctx context.Context) (*pveapi.TaskResult, error) {
	release, err := g.u.r.data.snapshotTasks.acquire(ctx, g.ref.vmid)
	if err != nil {
		return nil, err
	}
	defer release()
	tflog.Info(ctx, "rolling back after a failed provisioning run", map[string]any{"snapshot": g.snapshot})
	return g.u.r.data.API.RollbackSnapshot(ctx, g.ref.node, g.ref.vmid, g.snapshot, true)
}

// deleteSnapshot deletes the guard's snapshot; a failure is a warning, since
// the snapshot is only in the way.
func (g *provisioningGuard) deleteSnapshot(ctx context.Context) bool {
	res, err := func() (*pveapi.TaskResult, error) {
		release, err := g.u.r.data.snapshotTasks.acquire(ctx, g.ref.vmid)
		if err != nil {
			return nil, err
		}
		defer release()
		return g.u.r.data.API.DeleteSnapshot(ctx, g.ref.node, g.ref.vmid, g.snapshot, false)
	}()
	addTaskWarnings(g.u.diags, "Deleting the snapshot taken before provisioning", res)
	if err != nil {
		g.u.diags.AddWarning("Snapshot Left Behind", fmt.Sprintf(
			"Container %d on node %s: deleting the snapshot %s, taken before provisioning, failed: %v. It is no longer "+
				"needed; delete it in the Proxmox VE UI or with `pct delsnapshot %d %s` on the node.",
			g.ref.vmid, g.ref.node, g.snapshot, err, g.ref.vmid, g.snapshot))
		return false
	}
	return true
}

// rolledBackDetail says which step failed, that the container was rolled
// back, and what state holds.
func rolledBackDetail(ref containerRef, runErr error, snapshot string, deleted bool, startErr *pveapi.StartAfterRollbackError) string {
	what, tail := fmt.Sprintf("could not be provisioned: %v", runErr), ""
	var step *provision.StepError
	if errors.As(runErr, &step) {
		what = step.Summary()
		if len(step.Result.OutputTail) > 0 {
			tail = "\n\nLast output lines of the step:\n" + strings.Join(step.Result.OutputTail, "\n")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Container %d on node %s: %s.\n\nThe container was rolled back to its state before this apply "+
		"(to the snapshot %s, taken right before provisioning; settings this apply changed through the Proxmox VE API "+
		"are kept)", ref.vmid, ref.node, what, snapshot)
	if startErr != nil {
		fmt.Fprintf(&b, ", but it did not start again: %v. Start it, or apply again", startErr.Err)
	} else {
		b.WriteString(" and runs again")
	}
	if deleted {
		b.WriteString("; the snapshot was deleted")
	}
	b.WriteString(". State keeps the previous template and provisioning results, so the next plan shows this update " +
		"again: fix the template and apply.")
	return b.String() + tail
}

// recordWithoutProvisioning records an update whose provisioning did not
// happen or was rolled back: the settings as Proxmox VE now reports them,
// and the previous template, provisioned digests, services and
// credentials, so that the next plan shows the provisioning as pending.
func (u *update) recordWithoutProvisioning(ctx context.Context, ref containerRef) {
	m := *u.plan
	m.Template = u.prior.Template
	m.keepOutcome(*u.prior)
	u.r.refreshAfterChange(ctx, ref, &m, u.diags)
	u.diags.Append(u.state.Set(ctx, &m)...)
	if raw, err := knownOnly(u.state.Raw); err == nil {
		u.state.Raw = raw
	}
}

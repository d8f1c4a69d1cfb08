package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Creating a pve_lxc_container by cloning the golden image its template
// carries (the spec's image object, which pve_lxc_template adds): clone,
// record, apply the container's own settings over the image's, start,
// give root its SSH keys and password (Proxmox VE's clone takes neither),
// run only the per-container part of provisioning, converge. planClone
// refuses at plan time what a clone cannot be.

// image is the golden image the container is cloned from, or nil.
func (c *creation) image() *templatedir.Image {
	if c.prov.spec == nil {
		return nil
	}
	return c.prov.spec.Image
}

// createByCloning is Create for a container whose template has a golden
// image. From the clone on, the container is recorded in state first, so a
// later failure leaves it tainted rather than orphaned.
func (c *creation) createByCloning(ctx context.Context, img *templatedir.Image, password string) {
	ref, ok := c.cloneImage(ctx, img)
	if !ok {
		return
	}
	access := rootAccess{password: &password}
	if keys := strings.TrimSpace(c.plan.SSHPublicKeys.ValueString()); keys != "" {
		access.keys = &keys
	}
	if password == "" {
		access.password = nil
	}
	if !c.trackNew(ctx, ref) || !c.configureClone(ctx, ref) || !c.startClone(ctx, ref, access) || !c.provisionClone(ctx, ref, img) {
		return
	}
	c.converge(ctx, ref)
}

// cloneImage asks PVE for a clone of the image, linked or full as the
// image says, on the container's node (across nodes only from shared
// storage, which planClone checked), and waits for the clone task.
func (c *creation) cloneImage(ctx context.Context, img *templatedir.Image) (containerRef, bool) {
	api := c.r.data.API
	ref := containerRef{node: c.plan.Node.ValueString()}
	opts := pveapi.CloneOptions{Full: ptr(img.Clone == templatedir.CloneFull)}
	if known(c.plan.Hostname) {
		opts.Hostname = c.plan.Hostname.ValueString()
	}
	if ref.node != img.Node {
		opts.Target = ref.node
	}
	if img.Clone == templatedir.CloneFull && known(c.plan.Storage) && c.plan.Storage.ValueString() != img.Storage {
		opts.Storage = c.plan.Storage.ValueString()
	}
	if known(c.plan.VMID) {
		ref.vmid = int(c.plan.VMID.ValueInt64())
	}
	upid, err := dispatchClone(ctx, api, img, &ref, opts)
	var ambiguous *pveapi.AmbiguousCreateError
	switch {
	case errors.As(err, &ambiguous):
		tflog.Warn(ctx, "clone outcome unknown; tracking the container", map[string]any{"vmid": ref.vmid})
		c.trackNew(ctx, ref)
		c.diags.AddError("Container Creation Uncertain", fmt.Sprintf(
			"The request to clone golden image %d on node %s into container %d got no clear answer (%v). The container is "+
				"tracked and marked tainted; the next apply replaces it if it exists, or creates it again if it does not.",
			img.VMID, img.Node, ref.vmid, err))
		return ref, false
	case err != nil:
		c.diags.AddError("Unable to Clone the Golden Image", fmt.Sprintf(
			"Proxmox VE refused to clone golden image %d on node %s into a container on node %s: %v. Is the image still there? "+
				"A refresh of its pve_lxc_template notices a missing image and rebuilds it.", img.VMID, img.Node, ref.node, err))
		return ref, false
	}
	ctx = tflog.SetField(ctx, "vmid", ref.vmid)
	c.r.data.invalidateCluster()
	tflog.Info(ctx, "cloning the golden image", map[string]any{"image": img.VMID, "clone": img.Clone, "upid": upid})
	return ref, c.waitCreated(ctx, ref, upid)
}

// dispatchClone sends the clone request, to ref.vmid or (when it is 0) an
// allocated VMID, which it sets. PVE locks the image ("disk") while it
// makes a clone of it, so containers cloned in parallel (terraform's
// parallelism) find it locked: the request did nothing then, and is sent
// again once the lock may be gone, for as long as ctx allows.
func dispatchClone(ctx context.Context, api *pveapi.Client, img *templatedir.Image, ref *containerRef, opts pveapi.CloneOptions) (string, error) {
	fixed := ref.vmid
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		var upid string
		var err error
		if fixed != 0 {
			upid, err = api.CloneContainerAsync(ctx, img.Node, int(img.VMID), fixed, opts)
		} else {
			ref.vmid, upid, err = api.CloneContainerAutoAsync(ctx, img.Node, int(img.VMID), opts)
		}
		var ambiguous *pveapi.AmbiguousCreateError
		if !errors.Is(err, pveapi.ErrLocked) || errors.As(err, &ambiguous) {
			return upid, err
		}
		tflog.Debug(ctx, "golden image locked (another clone of it is being made); trying again", map[string]any{"image": img.VMID, "wait_ms": delay.Milliseconds()})
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w (gave up waiting for the image's lock: %w)", err, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// configureClone gives the clone its own settings: PVE copied the image's
// config, and the clone's hostname only; the rest (resources, network,
// features, tags, description, mount points, a bigger disk) is a config
// change, as an update makes it.
func (c *creation) configureClone(ctx context.Context, ref containerRef) bool {
	want, diags := c.plan.desiredSettings(ctx)
	c.diags.Append(diags...)
	if c.diags.HasError() {
		return false
	}
	_, ok := c.r.applySettings(ctx, ref, want, c.diags)
	return ok
}

// startClone starts the clone when it should run, is provisioned or gets
// root's keys or password, and gives root those (over SSH).
func (c *creation) startClone(ctx context.Context, ref containerRef, access rootAccess) bool {
	if !c.plan.Started.ValueBool() && !c.prov.runs() && !access.changed() {
		return true
	}
	if err := c.r.start(ctx, ref, c.diags); err != nil {
		c.diags.AddError("Unable to Start Container", fmt.Sprintf(
			"Container %d on node %s was cloned but did not start: %v", ref.vmid, ref.node, err))
		return false
	}
	if !access.changed() {
		return true
	}
	err := c.r.waitReady(ctx, ref)
	if err == nil {
		err = c.r.applyAccess(ctx, ref, access)
	}
	if err != nil {
		addContainerError(c.diags, "Unable to Set Root Access", ref,
			"it was cloned from its golden image, and giving root its SSH keys or password (which Proxmox VE's clone does not "+
				"take) failed: %v. %s", err, afterFailedCreate)
		return false
	}
	return true
}

// provisionClone runs the per-container part of provisioning: the clone's
// own identity and the steps that saved credentials in the image; every
// other step is reported from the record the image left. Then the clone
// stops again when it should not run.
func (c *creation) provisionClone(ctx context.Context, ref containerRef, img *templatedir.Image) bool {
	if c.prov.runs() {
		outcome, err := c.r.provision(ctx, provisionJob{
			ref: ref, settings: c.prov, create: true, hostname: c.plan.Hostname.ValueString(),
			clone: &provision.Clone{Rerun: img.Rerun},
		})
		c.diags.Append(c.plan.setOutcome(ctx, outcome)...)
		if err != nil {
			c.trackNew(ctx, ref)
			provisioningError(c.diags, ref, err, afterFailedCreate)
			return false
		}
	} else {
		c.plan.clearOutcome()
	}
	return c.stopUnlessStarted(ctx, ref, "cloned")
}

// planClone refuses, before anything is created, what a clone of the
// template's golden image cannot be, and plans the storage it lands on.
// Only a new container is cloned; one that exists keeps running and gets
// template changes as provisioning updates.
func (r *containerResource) planClone(in planInputs, plan *containerResourceModel, diags *diag.Diagnostics) {
	if in.state != nil || in.spec == nil || in.spec.Image == nil {
		return
	}
	img, cfg := in.spec.Image, in.config
	if known(plan.Node) && plan.Node.ValueString() != img.Node && !img.Shared {
		diags.AddAttributeError(path.Root("node"), "Golden Image on Another Node", fmt.Sprintf(
			"The template's golden image %d is on node %s, on storage %s, which is not shared, and Proxmox VE clones across "+
				"nodes only from shared storage. Build an image on node %s with a pve_lxc_template of its own there, put the "+
				"image on shared storage (image.storage), or use a template without an image block to provision from scratch.",
			img.VMID, img.Node, img.Storage, plan.Node.ValueString()))
	}
	if known(cfg.Unprivileged) && cfg.Unprivileged.ValueBool() != in.spec.Defaults.Unprivileged {
		diags.AddAttributeError(path.Root("unprivileged"), "Clone Keeps the Image's Privilege", fmt.Sprintf(
			"The container is cloned from the template's golden image, which is %s, and a clone cannot change that. "+
				"Remove unprivileged, or change the template's defaults.unprivileged (which rebuilds the image).", privilegeWord(in.spec.Defaults.Unprivileged)))
	}
	switch {
	case known(cfg.Storage) && img.Clone == templatedir.CloneLinked && cfg.Storage.ValueString() != img.Storage:
		diags.AddAttributeError(path.Root("storage"), "Linked Clone Stays on the Image's Storage", fmt.Sprintf(
			"The container is a linked clone of the template's golden image, which lives on storage %s, and a linked clone "+
				"shares its storage. Remove storage, or set image.clone = \"full\" on the pve_lxc_template to copy the image "+
				"to other storage.", img.Storage))
	case cfg.Storage.IsNull():
		plan.Storage = types.StringValue(img.Storage)
	}
	if disk := imageDiskGiB(*in.spec); known(plan.DiskSize) && plan.DiskSize.ValueFloat64() < disk {
		diags.AddAttributeError(path.Root("disk_size"), "Clone Cannot Shrink the Image's Disk", fmt.Sprintf(
			"The container is cloned from the template's golden image, whose root filesystem is %g GiB, and Proxmox VE cannot "+
				"shrink a disk. Set disk_size to %g or more.", disk, disk))
	}
	if !r.hasSSH() && (cfg.SSHPublicKeys.ValueString() != "" || cfg.Password.ValueString() != "" || !cfg.PasswordWO.IsNull()) {
		diags.AddAttributeError(path.Root("ssh_public_keys"), "Clone Needs SSH for Root Access",
			"The container is cloned from the template's golden image, and Proxmox VE's clone takes neither root's SSH keys nor "+
				"its password; the provider sets them with pct exec over SSH, and it has no ssh block. Add one to the provider, "+
				"or remove ssh_public_keys and the password.")
	}
}

// imageDiskGiB is the root filesystem size a template's image is built with.
func imageDiskGiB(spec templatedir.Spec) float64 {
	if spec.Defaults.DiskSize > 0 {
		return float64(spec.Defaults.DiskSize)
	}
	return defaultDiskGiB
}

func privilegeWord(unprivileged bool) string {
	if unprivileged {
		return "unprivileged"
	}
	return "privileged"
}

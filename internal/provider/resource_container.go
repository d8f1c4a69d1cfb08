package provider

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

var (
	_ resource.ResourceWithConfigure   = (*containerResource)(nil)
	_ resource.ResourceWithImportState = (*containerResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*containerResource)(nil)
)

// NewContainerResource is the constructor of pve_lxc_container.
func NewContainerResource() resource.Resource {
	return &containerResource{}
}

type containerResource struct {
	data *providerData
}

func (r *containerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lxc_container"
}

func (r *containerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureAPIResource(req.ProviderData, "pve_lxc_container", &resp.Diagnostics)
}

// How long create and update wait for a started container to report an
// address before giving up quietly (the address then appears on refresh).
const addressWait = 60 * time.Second

func (r *containerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan containerResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var password types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("password_wo"), &password)...)
	if plan.Password.ValueString() != "" {
		password = plan.Password
	}
	timeout, diags := plan.Timeouts.Create(ctx, r.data.Timeouts.Create)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = r.data.logContext(ctx)
	api := r.data.API
	node := plan.Node.ValueString()
	ctx = tflog.SetField(ctx, "node", node)

	if plan.Storage.IsUnknown() {
		storage, err := api.DefaultContainerStorage(ctx, node)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("storage"), "No Storage for the Container", err.Error())
			return
		}
		plan.Storage = types.StringValue(storage)
	}
	want, diags := plan.desiredSettings(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	image, err := api.EnsureOSImage(ctx, node, plan.OSTemplate.ValueString(), "")
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("os_template"), "Cannot Resolve the OS Image",
			fmt.Sprintf("The OS image %q could not be found or downloaded on node %s: %v", plan.OSTemplate.ValueString(), node, err))
		return
	}
	addTaskWarnings(&resp.Diagnostics, "Downloading the OS image", image.Task)

	params := want.createParams()
	params.Set("ostemplate", image.VolID)
	if password.ValueString() != "" {
		params.Set("password", password.ValueString())
	}
	if keys := strings.TrimSpace(plan.SSHPublicKeys.ValueString()); keys != "" {
		params.Set("ssh-public-keys", keys+"\n")
	}

	var vmid int
	var upid string
	if known(plan.VMID) {
		vmid = int(plan.VMID.ValueInt64())
		upid, err = api.CreateContainerAsync(ctx, node, vmid, params)
	} else {
		vmid, upid, err = api.CreateContainerAutoAsync(ctx, node, params)
	}
	var ambiguous *pveapi.AmbiguousCreateError
	switch {
	case errors.As(err, &ambiguous):
		// The create may have happened; track the container so that it is
		// never orphaned. Read sorts out whether it exists.
		tflog.Warn(ctx, "create outcome unknown; tracking the container", map[string]any{"vmid": vmid})
		r.trackNew(ctx, &plan, node, vmid, resp)
		resp.Diagnostics.AddError("Container Creation Uncertain", fmt.Sprintf(
			"The create request for container %d on node %s got no clear answer (%v). The container is tracked and marked "+
				"tainted; the next apply replaces it if it exists, or creates it again if it does not.", vmid, node, err))
		return
	case err != nil:
		resp.Diagnostics.AddError("Unable to Create Container", fmt.Sprintf(
			"Proxmox VE refused to create the container on node %s: %v", node, err))
		return
	}
	ctx = tflog.SetField(ctx, "vmid", vmid)
	r.data.invalidateCluster()
	tflog.Info(ctx, "creating container", map[string]any{"upid": upid})

	res, err := api.WaitTask(ctx, upid)
	if err != nil {
		var taskErr *pveapi.TaskError
		if errors.As(err, &taskErr) {
			// A failed create task removes the config again: nothing exists.
			resp.Diagnostics.AddError("Unable to Create Container", fmt.Sprintf(
				"Creating container %d on node %s failed: %v", vmid, node, err))
			return
		}
		// Timed out or cancelled while PVE is still working: keep it tracked.
		r.trackNew(ctx, &plan, node, vmid, resp)
		resp.Diagnostics.AddError("Container Creation Did Not Finish", fmt.Sprintf(
			"Waiting for the creation of container %d on node %s failed: %v. The container is tracked and marked "+
				"tainted, so the next apply replaces it.", vmid, node, err))
		return
	}
	addTaskWarnings(&resp.Diagnostics, "Creating the container", res)

	// From here on the container exists: record it first, so that any later
	// failure leaves it in state (tainted) rather than orphaned.
	r.trackNew(ctx, &plan, node, vmid, resp)
	if resp.Diagnostics.HasError() {
		return
	}
	prov, diags := r.provisioningOf(ctx, plan)
	resp.Diagnostics.Append(diags...)
	provisioning := prov.enabled && prov.spec != nil
	if plan.Started.ValueBool() || provisioning {
		if err := r.start(ctx, node, vmid, &resp.Diagnostics); err != nil {
			resp.Diagnostics.AddError("Unable to Start Container", fmt.Sprintf(
				"Container %d on node %s was created but did not start: %v", vmid, node, err))
			return
		}
	}
	if provisioning {
		hostname := ""
		if known(plan.Hostname) {
			hostname = plan.Hostname.ValueString()
		}
		outcome, err := r.provisionContainer(ctx, node, vmid, prov, nil, true, hostname)
		resp.Diagnostics.Append(plan.setOutcome(ctx, outcome)...)
		if err != nil {
			r.trackNew(ctx, &plan, node, vmid, resp)
			provisioningError(&resp.Diagnostics, node, vmid, err)
			return
		}
		if !plan.Started.ValueBool() {
			if err := r.shutdown(ctx, node, vmid, &resp.Diagnostics); err != nil {
				resp.Diagnostics.AddError("Unable to Stop Container", fmt.Sprintf(
					"Container %d on node %s was provisioned but did not stop again (started = false): %v", vmid, node, err))
				return
			}
		}
	} else {
		plan.clearOutcome()
	}
	r.refreshInto(ctx, &plan, true, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// trackNew records a just-created container in state, with whatever is
// not known yet left empty.
func (r *containerResource) trackNew(ctx context.Context, plan *containerResourceModel, node string, vmid int, resp *resource.CreateResponse) {
	plan.VMID = types.Int64Value(int64(vmid))
	plan.ID = types.StringValue(containerID(node, int64(vmid)))
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	raw, err := knownOnly(resp.State.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Unable to Record Container", fmt.Sprintf("Container %d on node %s exists but could not be recorded in state: %v", vmid, node, err))
		return
	}
	resp.State.Raw = raw
}

// knownOnly replaces every unknown value with null, so that a partial
// result can be saved as state.
func knownOnly(v tftypes.Value) (tftypes.Value, error) {
	return tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
}

func (r *containerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state containerResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.logContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, r.data.Timeouts.Read)
	defer cancel()
	gone := r.refreshInto(ctx, &state, false, &resp.Diagnostics)
	if gone {
		tflog.Warn(ctx, "container no longer exists; removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if resp.Diagnostics.HasError() {
		return
	}
	r.checkDrift(ctx, &state, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// refreshInto reads the container's config and status into m. On a refresh
// it costs one request per container (the config) plus a cluster-wide
// status list shared by all containers of the refresh; the interfaces are
// asked for only when an address is needed and not known. afterChange (in
// create and update) reads the status directly and waits, bounded, for a
// DHCP address. It reports whether the container is gone.
func (r *containerResource) refreshInto(ctx context.Context, m *containerResourceModel, afterChange bool, diags *diag.Diagnostics) (gone bool) {
	node, vmid64, err := parseContainerID(m.ID.ValueString())
	if err != nil {
		diags.AddError("Invalid Container ID in State", err.Error())
		return false
	}
	vmid := int(vmid64)
	var status string
	if afterChange {
		// Right after this provider changed the container, ask it directly:
		// the shared list may predate the change.
		st, err := r.data.API.ContainerStatus(ctx, node, vmid)
		if errors.Is(err, pveapi.ErrNotFound) {
			return true
		}
		if err != nil {
			diags.AddError("Unable to Read Container", fmt.Sprintf("Reading the status of container %d on node %s failed: %v", vmid, node, err))
			return false
		}
		status = st.Status
	} else {
		guest, found, err := r.data.clusterGuest(ctx, r.data.API, vmid)
		if err != nil {
			diags.AddError("Unable to Read Container", fmt.Sprintf("Listing the cluster's guests failed: %v", err))
			return false
		}
		if !found {
			return true
		}
		if guest.Node != "" && guest.Node != node {
			node = guest.Node // moved (migrated) outside Terraform
		}
		status = guest.Status
	}
	cfg, err := r.data.API.ContainerConfig(ctx, node, vmid)
	if errors.Is(err, pveapi.ErrNotFound) {
		return true
	}
	if err != nil {
		diags.AddError("Unable to Read Container", fmt.Sprintf("Reading the config of container %d on node %s failed: %v", vmid, node, err))
		return false
	}
	settings, err := settingsFromConfig(*cfg)
	if err != nil {
		diags.AddError("Unexpected Container Config", fmt.Sprintf("Container %d on node %s: %v", vmid, node, err))
		return false
	}
	previousIPv4 := m.IPv4
	m.Node = types.StringValue(node)
	m.VMID = types.Int64Value(int64(vmid))
	m.ID = types.StringValue(containerID(node, int64(vmid)))
	diags.Append(m.applyObserved(ctx, settings)...)
	running := status == "running"
	m.Status = types.StringValue(status)
	m.Started = types.BoolValue(running)
	if m.RebootOnPending.IsNull() {
		m.RebootOnPending = types.BoolValue(true)
	}
	if m.OSTemplate.IsNull() || m.OSTemplate.IsUnknown() {
		m.OSTemplate = nullNormalizedString(normalizeOSTemplate)
	}

	if !running {
		m.IPv4, m.IPv6 = types.StringValue(""), types.StringValue("")
		return false
	}
	ipv4, ipv6, needAPI := staticAddresses(settings)
	if needAPI && !afterChange && known(previousIPv4) && previousIPv4.ValueString() != "" {
		m.IPv4, m.IPv6 = previousIPv4, types.StringValue(ipv6)
		return false
	}
	if needAPI {
		ipv4, ipv6 = r.addresses(ctx, node, vmid, afterChange)
	}
	m.IPv4, m.IPv6 = types.StringValue(ipv4), types.StringValue(ipv6)
	return false
}

// staticAddresses returns the addresses configured on the first interface;
// needAPI is true when an address comes from DHCP/SLAAC and only the
// interfaces endpoint can tell it.
func staticAddresses(s containerSettings) (ipv4, ipv6 string, needAPI bool) {
	if len(s.Networks) == 0 {
		return "", "", false
	}
	n := s.Networks[0]
	if p, err := netip.ParsePrefix(n.IP); err == nil {
		ipv4 = p.Addr().String()
	} else if n.IP == "dhcp" {
		needAPI = true
	}
	if p, err := netip.ParsePrefix(n.IP6); err == nil {
		ipv6 = p.Addr().String()
	} else if n.IP6 == "dhcp" || n.IP6 == "auto" {
		needAPI = true
	}
	return ipv4, ipv6, needAPI
}

// addresses asks the interfaces endpoint for the first IPv4 and global IPv6
// address, waiting (bounded) for DHCP when asked to.
func (r *containerResource) addresses(ctx context.Context, node string, vmid int, wait bool) (ipv4, ipv6 string) {
	deadline := time.Now().Add(addressWait)
	for delay := 250 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		ifaces, err := r.data.API.ContainerInterfaces(ctx, node, vmid)
		if err == nil {
			ipv4, ipv6 = firstAddresses(ifaces)
		}
		if ipv4 != "" || !wait || time.Now().Add(delay).After(deadline) {
			if wait && ipv4 == "" {
				tflog.Warn(ctx, "container reported no IPv4 address in time; it will show on a later refresh", map[string]any{"waited": addressWait.String()})
			}
			return ipv4, ipv6
		}
		select {
		case <-ctx.Done():
			return ipv4, ipv6
		case <-time.After(delay):
		}
	}
}

func firstAddresses(ifaces []pveapi.ContainerInterface) (ipv4, ipv6 string) {
	for _, iface := range ifaces {
		if iface.Name == "lo" {
			continue
		}
		for _, a := range iface.IPAddresses {
			addr, err := netip.ParseAddr(a.Address)
			if err != nil || addr.IsLoopback() || addr.IsLinkLocalUnicast() {
				continue
			}
			if addr.Is4() && ipv4 == "" {
				ipv4 = addr.String()
			}
			if addr.Is6() && ipv6 == "" {
				ipv6 = addr.String()
			}
		}
	}
	return ipv4, ipv6
}

func (r *containerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state containerResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, r.data.Timeouts.Update)
	resp.Diagnostics.Append(diags...)
	ctx, cancel, node, vmid, ok := r.operation(ctx, state.ID, timeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	api := r.data.API

	want, diags := plan.desiredSettings(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, err := api.ContainerConfig(ctx, node, vmid)
	if err != nil {
		resp.Diagnostics.AddError("Unable to Update Container", fmt.Sprintf("Reading the config of container %d on node %s failed: %v", vmid, node, err))
		return
	}
	cur, err := settingsFromConfig(*cfg)
	if err != nil {
		resp.Diagnostics.AddError("Unexpected Container Config", fmt.Sprintf("Container %d on node %s: %v", vmid, node, err))
		return
	}
	change := diffSettings(cur, want)
	for _, rs := range change.Resizes {
		res, err := api.ResizeContainerDisk(ctx, node, vmid, rs.Disk, rs.Size)
		if err != nil {
			resp.Diagnostics.AddError("Unable to Resize Disk", fmt.Sprintf("Growing %s of container %d on node %s to %s failed: %v", rs.Disk, vmid, node, rs.Size, err))
			return
		}
		addTaskWarnings(&resp.Diagnostics, "Resizing "+rs.Disk, res)
	}
	if !change.Config.Empty() {
		digest := cfg.Digest
		if len(change.Resizes) > 0 {
			digest = "" // the resizes rewrote the config; PVE's own file lock still guards the write
		}
		tflog.Info(ctx, "updating container config", map[string]any{"set": change.Config.Keys(), "delete": change.Config.Deletes()})
		if err := api.UpdateContainerConfig(ctx, node, vmid, change.Config, digest); err != nil {
			resp.Diagnostics.AddError("Unable to Update Container", fmt.Sprintf("Changing the config of container %d on node %s failed: %v", vmid, node, err))
			return
		}
	}

	status, err := api.ContainerStatus(ctx, node, vmid)
	if err != nil {
		resp.Diagnostics.AddError("Unable to Read Container Status", fmt.Sprintf("Container %d on node %s: %v", vmid, node, err))
		return
	}
	running := status.Running()

	// Work inside the container: changed SSH keys or password, and
	// provisioning of new or changed steps. It needs the container running.
	prov, diags := r.provisioningOf(ctx, plan)
	resp.Diagnostics.Append(diags...)
	applied, diags := provisionedOf(ctx, state)
	resp.Diagnostics.Append(diags...)
	needProvision, err := wouldProvision(prov, applied, plan.Hostname.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("template"), "Template Cannot Be Provisioned", err.Error())
		return
	}
	keys, password := r.accessChanges(ctx, req, plan, state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if needProvision || keys != nil || password != nil {
		if !running {
			if err := r.start(ctx, node, vmid, &resp.Diagnostics); err != nil {
				resp.Diagnostics.AddError("Unable to Start Container", fmt.Sprintf("Container %d on node %s must run to be provisioned: %v", vmid, node, err))
				return
			}
			running = true
		}
		if err := r.applyAccess(ctx, node, vmid, keys, password); err != nil {
			resp.Diagnostics.AddError("Unable to Change Root Access", fmt.Sprintf("Container %d on node %s: %v", vmid, node, err))
			return
		}
	}
	if needProvision {
		outcome, err := r.provisionContainer(ctx, node, vmid, prov, applied, false, plan.Hostname.ValueString())
		resp.Diagnostics.Append(plan.setOutcome(ctx, outcome)...)
		if err != nil {
			provisioningError(&resp.Diagnostics, node, vmid, err)
			r.refreshInto(ctx, &plan, true, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			if raw, err := knownOnly(resp.State.Raw); err == nil {
				resp.State.Raw = raw
			}
			return
		}
	} else if !prov.enabled {
		plan.clearOutcome()
	}
	switch {
	case plan.Started.ValueBool() && !running:
		if err := r.start(ctx, node, vmid, &resp.Diagnostics); err != nil {
			resp.Diagnostics.AddError("Unable to Start Container", fmt.Sprintf("Container %d on node %s: %v", vmid, node, err))
			return
		}
	case !plan.Started.ValueBool() && running:
		if err := r.shutdown(ctx, node, vmid, &resp.Diagnostics); err != nil {
			resp.Diagnostics.AddError("Unable to Stop Container", fmt.Sprintf("Container %d on node %s: %v", vmid, node, err))
			return
		}
	case running && !change.Config.Empty():
		r.applyPending(ctx, plan, node, vmid, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}

	r.refreshInto(ctx, &plan, true, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// operation prepares an update or delete of the container with id: its
// timeout, the log context with node and vmid, and a cache invalidation
// when the returned cancel runs. ok is false when diags hold an error.
func (r *containerResource) operation(ctx context.Context, id types.String, timeout time.Duration, diags *diag.Diagnostics) (_ context.Context, cancel func(), node string, vmid int, ok bool) {
	if diags.HasError() {
		return ctx, nil, "", 0, false
	}
	node, vmid64, err := parseContainerID(id.ValueString())
	if err != nil {
		diags.AddError("Invalid Container ID in State", err.Error())
		return ctx, nil, "", 0, false
	}
	vmid = int(vmid64)
	ctx, stop := context.WithTimeout(ctx, timeout)
	ctx = r.data.logContext(ctx)
	ctx = tflog.SetField(ctx, "node", node)
	ctx = tflog.SetField(ctx, "vmid", vmid)
	return ctx, func() { r.data.invalidateCluster(); stop() }, node, vmid, true
}

// applyPending reboots a running container whose update left changes that
// apply only at the next start, when reboot_on_pending allows it.
func (r *containerResource) applyPending(ctx context.Context, plan containerResourceModel, node string, vmid int, diags *diag.Diagnostics) {
	pending, err := r.data.API.ContainerPending(ctx, node, vmid)
	if err != nil {
		diags.AddError("Unable to Read Pending Changes", fmt.Sprintf("Container %d on node %s: %v", vmid, node, err))
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
	if !plan.RebootOnPending.ValueBool() {
		diags.AddWarning("Changes Pending Until Restart", fmt.Sprintf(
			"Container %d on node %s applies %s only at its next start, and reboot_on_pending is false. "+
				"Restart it when convenient; until then the plan shows these values as applied.", vmid, node, strings.Join(keys, ", ")))
		return
	}
	tflog.Info(ctx, "rebooting container to apply pending changes", map[string]any{"pending": keys})
	res, err := r.data.API.RebootContainer(ctx, node, vmid)
	if err != nil {
		diags.AddError("Unable to Reboot Container", fmt.Sprintf(
			"Container %d on node %s has pending changes (%s) and the reboot to apply them failed: %v", vmid, node, strings.Join(keys, ", "), err))
		return
	}
	addTaskWarnings(diags, "Rebooting the container", res)
}

func (r *containerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state containerResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, r.data.Timeouts.Delete)
	resp.Diagnostics.Append(diags...)
	ctx, cancel, node, vmid, ok := r.operation(ctx, state.ID, timeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	status, err := r.data.API.ContainerStatus(ctx, node, vmid)
	if errors.Is(err, pveapi.ErrNotFound) {
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Delete Container", fmt.Sprintf("Reading the status of container %d on node %s failed: %v", vmid, node, err))
		return
	}
	if status.Running() {
		if err := r.shutdown(ctx, node, vmid, &resp.Diagnostics); err != nil && !errors.Is(err, pveapi.ErrNotFound) {
			resp.Diagnostics.AddError("Unable to Stop Container", fmt.Sprintf("Container %d on node %s must stop before it is destroyed: %v", vmid, node, err))
			return
		}
	}
	res, err := r.data.API.DeleteContainer(ctx, node, vmid, pveapi.DeleteContainerOptions{Purge: true, DestroyUnreferencedDisks: true})
	if errors.Is(err, pveapi.ErrNotFound) {
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Delete Container", fmt.Sprintf("Destroying container %d on node %s failed: %v", vmid, node, err))
		return
	}
	addTaskWarnings(&resp.Diagnostics, "Destroying the container", res)
}

// shutdownTimeout is how long a clean shutdown may take before the
// container is stopped hard.
const shutdownTimeout = 60

// shutdown stops a running container cleanly, forcing it after the timeout.
func (r *containerResource) shutdown(ctx context.Context, node string, vmid int, diags *diag.Diagnostics) error {
	res, err := r.data.API.ShutdownContainer(ctx, node, vmid, shutdownTimeout, true)
	if err == nil {
		addTaskWarnings(diags, "Shutting down the container", res)
		return nil
	}
	if isNotRunning(err) {
		return nil
	}
	tflog.Warn(ctx, "clean shutdown failed; stopping", map[string]any{"error": err.Error()})
	res, err = r.data.API.StopContainer(ctx, node, vmid)
	if err != nil && !isNotRunning(err) {
		return err
	}
	addTaskWarnings(diags, "Stopping the container", res)
	return nil
}

func (r *containerResource) start(ctx context.Context, node string, vmid int, diags *diag.Diagnostics) error {
	res, err := r.data.API.StartContainer(ctx, node, vmid)
	if err != nil {
		var apiErr *pveapi.APIError
		if errors.As(err, &apiErr) && strings.Contains(apiErr.Message, "already running") {
			return nil
		}
		return err
	}
	addTaskWarnings(diags, "Starting the container", res)
	return nil
}

// isNotRunning recognises PVE's answer to stopping a stopped container.
func isNotRunning(err error) bool {
	var apiErr *pveapi.APIError
	return errors.As(err, &apiErr) && strings.Contains(apiErr.Message, "not running")
}

func (r *containerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	node, vmid, err := parseContainerID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Unexpected Import Identifier", "Import pve_lxc_container with <node>/<vmid>, e.g. pve/101: "+err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), containerID(node, vmid))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("node"), node)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("vmid"), vmid)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("reboot_on_pending"), true)...)
	if r.data == nil || r.data.API == nil {
		return
	}
	// The config does not say which OS image a container was created from;
	// its create task does. Best effort: without it os_template stays unset.
	ctx = r.data.logContext(ctx)
	if image, err := r.data.API.ContainerOSImage(ctx, node, int(vmid)); err == nil && image != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("os_template"), newNormalizedString(normalizeOSTemplate, applianceOf(image)))...)
	} else if err != nil {
		tflog.Debug(ctx, "could not tell the imported container's OS image", map[string]any{"error": err.Error()})
	}
}

// addTaskWarnings surfaces a task's WARNINGS lines as diagnostics.
func addTaskWarnings(diags *diag.Diagnostics, what string, res *pveapi.TaskResult) {
	if res == nil || len(res.Warnings) == 0 {
		return
	}
	diags.AddWarning(what+" Reported Warnings", strings.Join(res.Warnings, "\n"))
}

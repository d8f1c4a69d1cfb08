package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// How long create and update wait for a started container to report an
// address before giving up quietly (the address then appears on refresh).
const addressWait = 60 * time.Second

// addressSource says where a refresh gets a DHCP address from.
type addressSource int

const (
	// addressKnownOrAsk keeps the address state has, else asks once: a
	// refresh of many containers costs one request each (the config).
	addressKnownOrAsk addressSource = iota
	// addressWaitForLease asks and waits, bounded, for a DHCP lease: right
	// after this provider started or changed the container.
	addressWaitForLease
)

// refresh reads the container's config and status into m. It costs one
// request per container (the config) plus a cluster-wide status list that
// all containers of a refresh share. It reports whether the container is gone.
func (r *containerResource) refresh(ctx context.Context, ref containerRef, m *containerResourceModel, diags *diag.Diagnostics) (gone bool) {
	guest, found, err := r.data.clusterGuest(ctx, r.data.API, ref.vmid)
	if err != nil {
		diags.AddError("Unable to Read Container", fmt.Sprintf("Listing the cluster's guests failed: %v", err))
		return false
	}
	if !found {
		return true
	}
	if guest.Node != "" && guest.Node != ref.node {
		ref.node = guest.Node // migrated outside Terraform
	}
	if guest.Lock == pveapi.LockCreate && r.clearStaleCreateLock(ctx, ref, diags) == lockStays {
		return false
	}
	return r.observe(ctx, ref, guest.Status, addressKnownOrAsk, m, diags)
}

// refreshAfterChange is refresh right after this provider changed the
// container: the shared list may predate the change, so the status is
// asked directly, and a DHCP address is waited for.
func (r *containerResource) refreshAfterChange(ctx context.Context, ref containerRef, m *containerResourceModel, diags *diag.Diagnostics) {
	st, err := r.data.API.ContainerStatus(ctx, ref.node, ref.vmid)
	if err == nil && r.observe(ctx, ref, st.Status, addressWaitForLease, m, diags) {
		err = pveapi.ErrNotFound
	}
	switch {
	case errors.Is(err, pveapi.ErrNotFound):
		addContainerError(diags, "Container Disappeared", ref, "it no longer exists right after this apply changed it, "+
			"so it was probably deleted outside Terraform. The next plan creates it again.")
	case err != nil:
		diags.AddError("Unable to Read Container", fmt.Sprintf("Reading the status of container %d on node %s failed: %v", ref.vmid, ref.node, err))
	}
}

// observe reads the config of a container whose status is known and
// writes everything PVE reports into m.
func (r *containerResource) observe(ctx context.Context, ref containerRef, status string, addresses addressSource, m *containerResourceModel, diags *diag.Diagnostics) (gone bool) {
	cfg, err := r.data.API.ContainerConfig(ctx, ref.node, ref.vmid)
	if errors.Is(err, pveapi.ErrNotFound) {
		return true
	}
	if err != nil {
		diags.AddError("Unable to Read Container", fmt.Sprintf("Reading the config of container %d on node %s failed: %v", ref.vmid, ref.node, err))
		return false
	}
	settings, err := lxcconf.Parse(*cfg)
	if err != nil && !known(m.Memory) {
		// An import: state has nothing to keep.
		addContainerError(diags, "Unreadable Container Config", ref, "%v. Correct the value on the node, then import again.", err)
		return false
	}
	if err != nil {
		// Not an error: it would block every plan, destroy included.
		addContainerWarning(diags, "Unreadable Container Config", ref, "%v. State keeps what it had, so the plan "+
			"compares the configuration with that; an update of the container fails until its config is corrected "+
			"on the node, and terraform destroy works.", err)
		return false
	}
	previousIPv4 := m.IPv4
	m.Node = types.StringValue(ref.node)
	m.VMID = types.Int64Value(int64(ref.vmid))
	m.ID = types.StringValue(ref.String())
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
	m.IPv4, m.IPv6 = r.observeAddresses(ctx, ref, running, settings, addresses, previousIPv4)
	return false
}

// observeAddresses finds the first IPv4 and IPv6 address of a running
// container: configured ones from its config, leased ones from the API.
func (r *containerResource) observeAddresses(ctx context.Context, ref containerRef, running bool, s lxcconf.Settings, from addressSource, previousIPv4 types.String) (ipv4, ipv6 types.String) {
	if !running {
		return types.StringValue(""), types.StringValue("")
	}
	v4, v6, needAPI := lxcconf.StaticAddresses(s)
	if needAPI && from == addressKnownOrAsk && previousIPv4.ValueString() != "" && !previousIPv4.IsUnknown() {
		return previousIPv4, types.StringValue(v6)
	}
	if needAPI {
		v4, v6 = r.leasedAddresses(ctx, ref, from == addressWaitForLease)
	}
	return types.StringValue(v4), types.StringValue(v6)
}

// leasedAddresses asks the interfaces endpoint for the first IPv4 and
// global IPv6 address, waiting (bounded) for DHCP when asked to.
func (r *containerResource) leasedAddresses(ctx context.Context, ref containerRef, wait bool) (ipv4, ipv6 string) {
	deadline := time.Now().Add(addressWait)
	for delay := 250 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		ifaces, err := r.data.API.ContainerInterfaces(ctx, ref.node, ref.vmid)
		if err == nil {
			ipv4, ipv6 = lxcconf.FirstAddresses(ifaces)
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

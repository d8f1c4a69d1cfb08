package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
)

// containerResourceModel is pve_lxc_container's configuration, plan and state.
type containerResourceModel struct {
	ID                types.String          `tfsdk:"id"`
	Node              types.String          `tfsdk:"node"`
	VMID              types.Int64           `tfsdk:"vmid"`
	Hostname          types.String          `tfsdk:"hostname"`
	Template          types.String          `tfsdk:"template"`
	OSTemplate        normalizedStringValue `tfsdk:"os_template"`
	OSTemplateSum     types.String          `tfsdk:"os_template_checksum"`
	Cores             types.Int64           `tfsdk:"cores"`
	CPULimit          types.Float64         `tfsdk:"cpulimit"`
	Memory            types.Int64           `tfsdk:"memory"`
	Swap              types.Int64           `tfsdk:"swap"`
	DiskSize          types.Float64         `tfsdk:"disk_size"`
	Storage           types.String          `tfsdk:"storage"`
	Unprivileged      types.Bool            `tfsdk:"unprivileged"`
	Features          types.Object          `tfsdk:"features"`
	Network           types.List            `tfsdk:"network"`
	Nameserver        types.String          `tfsdk:"nameserver"`
	Searchdomain      types.String          `tfsdk:"searchdomain"`
	SSHPublicKeys     types.String          `tfsdk:"ssh_public_keys"`
	Password          types.String          `tfsdk:"password"`
	PasswordWO        types.String          `tfsdk:"password_wo"`
	PasswordWOVersion types.Int64           `tfsdk:"password_wo_version"`
	Tags              tagSetValue           `tfsdk:"tags"`
	Description       normalizedStringValue `tfsdk:"description"`
	OnBoot            types.Bool            `tfsdk:"onboot"`
	Startup           types.Object          `tfsdk:"startup"`
	Started           types.Bool            `tfsdk:"started"`
	RebootOnPending   types.Bool            `tfsdk:"reboot_on_pending"`
	MountPoints       types.Map             `tfsdk:"mount_points"`
	IPv4              types.String          `tfsdk:"ipv4"`
	IPv6              types.String          `tfsdk:"ipv6"`
	MACAddresses      types.List            `tfsdk:"mac_addresses"`
	Status            types.String          `tfsdk:"status"`
	Provisioning      *provisioningModel    `tfsdk:"provisioning"`
	Provisioned       types.Map             `tfsdk:"provisioned"`
	Services          types.List            `tfsdk:"services"`
	Credentials       types.Map             `tfsdk:"credentials"`
	Timeouts          timeouts.Value        `tfsdk:"timeouts"`
}

// containerRef names one container: the resource id "<node>/<vmid>".
type containerRef struct {
	node string
	vmid int
}

func (c containerRef) String() string { return c.node + "/" + strconv.Itoa(c.vmid) }

// containerID is the resource id and import id: "<node>/<vmid>".
func containerID(node string, vmid int64) string { return node + "/" + strconv.FormatInt(vmid, 10) }

// parseContainerID splits "<node>/<vmid>".
func parseContainerID(id string) (node string, vmid int64, err error) {
	node, v, ok := strings.Cut(id, "/")
	if ok {
		vmid, err = strconv.ParseInt(v, 10, 64)
	}
	if !ok || err != nil || node == "" || vmid < 100 {
		return "", 0, fmt.Errorf("expected <node>/<vmid> such as pve/101, got %q", id)
	}
	return node, vmid, nil
}

// refOf reads the container a model's id names.
func refOf(id types.String, diags *diag.Diagnostics) (containerRef, bool) {
	node, vmid, err := parseContainerID(id.ValueString())
	if err != nil {
		diags.AddError("Invalid Container ID in State", err.Error())
		return containerRef{}, false
	}
	return containerRef{node: node, vmid: int(vmid)}, true
}

// desiredSettings turns a (fully known) plan into container settings.
func (m containerResourceModel) desiredSettings(ctx context.Context) (lxcconf.Settings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := lxcconf.Settings{
		Hostname:     m.Hostname.ValueString(),
		Cores:        m.Cores.ValueInt64(),
		CPULimit:     m.CPULimit.ValueFloat64(),
		Memory:       m.Memory.ValueInt64(),
		Swap:         m.Swap.ValueInt64(),
		Storage:      m.Storage.ValueString(),
		DiskGiB:      m.DiskSize.ValueFloat64(),
		Unprivileged: m.Unprivileged.ValueBool(),
		Features:     featuresToLXC(ctx, m.Features, &diags),
		Networks:     networksToLXC(ctx, m.Network, &diags),
		Nameserver:   m.Nameserver.ValueString(),
		Searchdomain: m.Searchdomain.ValueString(),
		Tags:         m.Tags.tags(),
		Description:  m.Description.ValueString(),
		OnBoot:       m.OnBoot.ValueBool(),
		Startup:      startupToLXC(ctx, m.Startup, &diags),
		MountPoints:  mountPointsToLXC(ctx, m.MountPoints, &diags),
	}
	return s, diags
}

// applyObserved writes what PVE reports into the model: every setting the
// container has, as the API returns it. Values the API cannot return
// (template, os_template, password, ssh_public_keys) are left alone.
func (m *containerResourceModel) applyObserved(ctx context.Context, s lxcconf.Settings) diag.Diagnostics {
	var diags diag.Diagnostics
	m.Hostname = types.StringValue(s.Hostname)
	m.Cores = nullableInt(s.Cores)
	m.CPULimit = types.Float64Value(s.CPULimit)
	m.Memory = types.Int64Value(s.Memory)
	m.Swap = types.Int64Value(s.Swap)
	m.Storage = types.StringValue(s.Storage)
	m.DiskSize = types.Float64Value(s.DiskGiB)
	m.Unprivileged = types.BoolValue(s.Unprivileged)
	m.Nameserver = nullableString(s.Nameserver)
	m.Searchdomain = nullableString(s.Searchdomain)
	m.Tags = newTagSet(s.Tags)
	m.Description = newNormalizedString(normalizeDescriptionText, s.Description)
	m.OnBoot = types.BoolValue(s.OnBoot)
	m.Features = featuresFromLXC(s.Features)
	m.Network, m.MACAddresses = networksFromLXC(ctx, s.Networks, &diags)
	m.Startup = startupFromLXC(s.Startup)
	m.MountPoints = mountPointsFromLXC(ctx, s.MountPoints, &diags)
	return diags
}

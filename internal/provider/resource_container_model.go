package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// containerResourceModel is pve_lxc_container's configuration, plan and state.
type containerResourceModel struct {
	ID                types.String          `tfsdk:"id"`
	Node              types.String          `tfsdk:"node"`
	VMID              types.Int64           `tfsdk:"vmid"`
	Hostname          types.String          `tfsdk:"hostname"`
	Template          types.Object          `tfsdk:"template"`
	OSTemplate        normalizedStringValue `tfsdk:"os_template"`
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

type containerFeaturesModel struct {
	Nesting types.Bool `tfsdk:"nesting"`
	Keyctl  types.Bool `tfsdk:"keyctl"`
	Fuse    types.Bool `tfsdk:"fuse"`
	Mknod   types.Bool `tfsdk:"mknod"`
	Mount   types.Set  `tfsdk:"mount"`
}

type networkModel struct {
	Name     types.String  `tfsdk:"name"`
	Bridge   types.String  `tfsdk:"bridge"`
	IP       types.String  `tfsdk:"ip"`
	GW       types.String  `tfsdk:"gw"`
	IP6      types.String  `tfsdk:"ip6"`
	GW6      types.String  `tfsdk:"gw6"`
	HWAddr   types.String  `tfsdk:"hwaddr"`
	Firewall types.Bool    `tfsdk:"firewall"`
	Tag      types.Int64   `tfsdk:"tag"`
	MTU      types.Int64   `tfsdk:"mtu"`
	Rate     types.Float64 `tfsdk:"rate"`
}

type startupModel struct {
	Order types.Int64 `tfsdk:"order"`
	Up    types.Int64 `tfsdk:"up"`
	Down  types.Int64 `tfsdk:"down"`
}

type mountPointModel struct {
	Storage   types.String  `tfsdk:"storage"`
	Size      types.Float64 `tfsdk:"size"`
	Path      types.String  `tfsdk:"path"`
	ReadOnly  types.Bool    `tfsdk:"read_only"`
	Backup    types.Bool    `tfsdk:"backup"`
	ACL       types.Bool    `tfsdk:"acl"`
	Quota     types.Bool    `tfsdk:"quota"`
	Replicate types.Bool    `tfsdk:"replicate"`
	Shared    types.Bool    `tfsdk:"shared"`
	Volume    types.String  `tfsdk:"volume"`
}

var (
	featuresAttrTypes = map[string]attr.Type{
		"nesting": types.BoolType, "keyctl": types.BoolType, "fuse": types.BoolType, "mknod": types.BoolType,
		"mount": types.SetType{ElemType: types.StringType},
	}
	networkAttrTypes = map[string]attr.Type{
		"name": types.StringType, "bridge": types.StringType, "ip": types.StringType, "gw": types.StringType,
		"ip6": types.StringType, "gw6": types.StringType, "hwaddr": types.StringType, "firewall": types.BoolType,
		"tag": types.Int64Type, "mtu": types.Int64Type, "rate": types.Float64Type,
	}
	startupAttrTypes    = map[string]attr.Type{"order": types.Int64Type, "up": types.Int64Type, "down": types.Int64Type}
	mountPointAttrTypes = map[string]attr.Type{
		"storage": types.StringType, "size": types.Float64Type, "path": types.StringType, "read_only": types.BoolType,
		"backup": types.BoolType, "acl": types.BoolType, "quota": types.BoolType, "replicate": types.BoolType,
		"shared": types.BoolType, "volume": types.StringType,
	}
)

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

// desiredSettings turns a (fully known) plan into container settings.
func (m containerResourceModel) desiredSettings(ctx context.Context) (containerSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := containerSettings{
		Hostname:     m.Hostname.ValueString(),
		Cores:        m.Cores.ValueInt64(),
		CPULimit:     m.CPULimit.ValueFloat64(),
		Memory:       m.Memory.ValueInt64(),
		Swap:         m.Swap.ValueInt64(),
		Storage:      m.Storage.ValueString(),
		DiskGiB:      m.DiskSize.ValueFloat64(),
		Unprivileged: m.Unprivileged.ValueBool(),
		Nameserver:   m.Nameserver.ValueString(),
		Searchdomain: m.Searchdomain.ValueString(),
		Tags:         m.Tags.tags(),
		Description:  m.Description.ValueString(),
		OnBoot:       m.OnBoot.ValueBool(),
		Startup:      noStartup,
		MountPoints:  map[string]mountPointSettings{},
	}
	if !m.Features.IsNull() && !m.Features.IsUnknown() {
		var f containerFeaturesModel
		diags.Append(m.Features.As(ctx, &f, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true})...)
		s.Features = containerFeatures{Nesting: f.Nesting.ValueBool(), Keyctl: f.Keyctl.ValueBool(), Fuse: f.Fuse.ValueBool(), Mknod: f.Mknod.ValueBool()}
		if !f.Mount.IsNull() && !f.Mount.IsUnknown() {
			diags.Append(f.Mount.ElementsAs(ctx, &s.Features.Mount, false)...)
			slices.Sort(s.Features.Mount)
		}
	}
	var nets []networkModel
	if !m.Network.IsNull() && !m.Network.IsUnknown() {
		diags.Append(m.Network.ElementsAs(ctx, &nets, false)...)
	}
	for _, n := range nets {
		s.Networks = append(s.Networks, networkSettings{
			Name: n.Name.ValueString(), Bridge: n.Bridge.ValueString(), IP: n.IP.ValueString(), GW: n.GW.ValueString(),
			IP6: n.IP6.ValueString(), GW6: n.GW6.ValueString(), HWAddr: strings.ToUpper(n.HWAddr.ValueString()),
			Firewall: n.Firewall.ValueBool(), Tag: n.Tag.ValueInt64(), MTU: n.MTU.ValueInt64(), Rate: n.Rate.ValueFloat64(),
		})
	}
	if !m.Startup.IsNull() && !m.Startup.IsUnknown() {
		var st startupModel
		diags.Append(m.Startup.As(ctx, &st, basetypes.ObjectAsOptions{})...)
		s.Startup = startupSettings{Order: int64OrUnset(st.Order), Up: int64OrUnset(st.Up), Down: int64OrUnset(st.Down)}
	}
	mps := map[string]mountPointModel{}
	if !m.MountPoints.IsNull() && !m.MountPoints.IsUnknown() {
		diags.Append(m.MountPoints.ElementsAs(ctx, &mps, false)...)
	}
	for slot, mp := range mps {
		acl := ""
		if !mp.ACL.IsNull() && !mp.ACL.IsUnknown() {
			acl = boolText(mp.ACL.ValueBool())
		}
		s.MountPoints[slot] = mountPointSettings{
			Storage: mp.Storage.ValueString(), Volume: mp.Volume.ValueString(), Path: mp.Path.ValueString(),
			SizeGiB: mp.Size.ValueFloat64(), ReadOnly: mp.ReadOnly.ValueBool(), Backup: mp.Backup.ValueBool(),
			ACL: acl, Quota: mp.Quota.ValueBool(), Replicate: mp.Replicate.ValueBool(), Shared: mp.Shared.ValueBool(),
		}
	}
	return s, diags
}

func int64OrUnset(v types.Int64) int64 {
	if v.IsNull() || v.IsUnknown() {
		return -1
	}
	return v.ValueInt64()
}

func boolText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// applyObserved writes what PVE reports into the model: every setting the
// container has, as the API returns it. Values the API cannot return
// (template, os_template, password, ssh_public_keys) are left alone.
func (m *containerResourceModel) applyObserved(ctx context.Context, s containerSettings) diag.Diagnostics {
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

	mount := make([]attr.Value, 0, len(s.Features.Mount))
	for _, fs := range s.Features.Mount {
		mount = append(mount, types.StringValue(fs))
	}
	m.Features = types.ObjectValueMust(featuresAttrTypes, map[string]attr.Value{
		"nesting": types.BoolValue(s.Features.Nesting), "keyctl": types.BoolValue(s.Features.Keyctl),
		"fuse": types.BoolValue(s.Features.Fuse), "mknod": types.BoolValue(s.Features.Mknod),
		"mount": types.SetValueMust(types.StringType, mount),
	})

	nets := make([]networkModel, 0, len(s.Networks))
	macs := make([]string, 0, len(s.Networks))
	for _, n := range s.Networks {
		nets = append(nets, networkModel{
			Name: types.StringValue(n.Name), Bridge: types.StringValue(n.Bridge), IP: nullableString(n.IP), GW: nullableString(n.GW),
			IP6: nullableString(n.IP6), GW6: nullableString(n.GW6), HWAddr: types.StringValue(n.HWAddr),
			Firewall: types.BoolValue(n.Firewall), Tag: nullableInt(n.Tag), MTU: nullableInt(n.MTU), Rate: nullableFloat(n.Rate),
		})
		macs = append(macs, n.HWAddr)
	}
	var d diag.Diagnostics
	m.Network, d = types.ListValueFrom(ctx, types.ObjectType{AttrTypes: networkAttrTypes}, nets)
	diags.Append(d...)
	m.MACAddresses, d = types.ListValueFrom(ctx, types.StringType, macs)
	diags.Append(d...)

	if s.Startup.set() {
		m.Startup = types.ObjectValueMust(startupAttrTypes, map[string]attr.Value{
			"order": unsetInt(s.Startup.Order), "up": unsetInt(s.Startup.Up), "down": unsetInt(s.Startup.Down),
		})
	} else {
		m.Startup = types.ObjectNull(startupAttrTypes)
	}

	if len(s.MountPoints) == 0 {
		m.MountPoints = types.MapNull(types.ObjectType{AttrTypes: mountPointAttrTypes})
		return diags
	}
	mps := map[string]mountPointModel{}
	for slot, mp := range s.MountPoints {
		acl := types.BoolNull()
		if mp.ACL != "" {
			acl = types.BoolValue(mp.ACL == "1")
		}
		mps[slot] = mountPointModel{
			Storage: types.StringValue(mp.Storage), Size: types.Float64Value(mp.SizeGiB), Path: types.StringValue(mp.Path),
			ReadOnly: types.BoolValue(mp.ReadOnly), Backup: types.BoolValue(mp.Backup), ACL: acl, Quota: types.BoolValue(mp.Quota),
			Replicate: types.BoolValue(mp.Replicate), Shared: types.BoolValue(mp.Shared), Volume: types.StringValue(mp.Volume),
		}
	}
	m.MountPoints, d = types.MapValueFrom(ctx, types.ObjectType{AttrTypes: mountPointAttrTypes}, mps)
	diags.Append(d...)
	return diags
}

func nullableString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func nullableInt(v int64) types.Int64 {
	if v <= 0 {
		return types.Int64Null()
	}
	return types.Int64Value(v)
}

func nullableFloat(v float64) types.Float64 {
	if v <= 0 {
		return types.Float64Null()
	}
	return types.Float64Value(v)
}

func unsetInt(v int64) types.Int64 {
	if v < 0 {
		return types.Int64Null()
	}
	return types.Int64Value(v)
}

package provider

import (
	"context"
	"maps"
	"regexp"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
)

// The mount_points block of pve_lxc_container: its schema, model, planning
// and conversion to and from lxcconf.MountPoint.

var (
	slotRE = regexp.MustCompile(`^mp([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$`)
)

func mountPointsAttribute() schema.MapNestedAttribute {
	return schema.MapNestedAttribute{
		MarkdownDescription: "Extra volumes keyed by slot (`mp0`…`mp255`). Added, removed and grown in " +
			"place. Removing a mount point detaches its volume, which Proxmox VE keeps as `unused<N>` " +
			"(its data is not lost) until the container is destroyed.",
		Optional:     true,
		Validators:   []validator.Map{mapvalidator.KeysAre(stringvalidator.RegexMatches(slotRE, "must be a mount point slot mp0 to mp255"))},
		NestedObject: schema.NestedAttributeObject{Attributes: mountPointAttributes()},
	}
}

func mountPointAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"storage": schema.StringAttribute{
			MarkdownDescription: "Storage to allocate the volume on; it must hold container volumes (`rootdir` content). Changing it replaces the container.",
			Required:            true,
			Validators:          []validator.String{storageID()},
		},
		"size": schema.Float64Attribute{
			MarkdownDescription: "Size in GiB (0.1–8589934591). Growing resizes in place; Proxmox VE cannot shrink a " +
				"volume, so a smaller size is an error at plan time.",
			Required:   true,
			Validators: []validator.Float64{float64validator.Between(minDiskGiB, float64(maxDiskGiB))},
		},
		"path": schema.StringAttribute{
			MarkdownDescription: "Mount path inside the container.",
			Required:            true,
			Validators:          []validator.String{mountPath()},
		},
		"read_only": schema.BoolAttribute{MarkdownDescription: "Mount read-only.", Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
		"backup":    schema.BoolAttribute{MarkdownDescription: "Include the volume in backups.", Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
		"acl":       schema.BoolAttribute{MarkdownDescription: "Force ACL support on or off (unset: storage default).", Optional: true},
		"quota":     schema.BoolAttribute{MarkdownDescription: "Enable user quotas.", Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
		"replicate": schema.BoolAttribute{MarkdownDescription: "Include the volume in storage replication.", Optional: true, Computed: true, Default: booldefault.StaticBool(true)},
		"shared":    schema.BoolAttribute{MarkdownDescription: "Mark the volume as available on all nodes.", Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
		"volume": schema.StringAttribute{
			MarkdownDescription: "Volume id Proxmox VE allocated, e.g. `local-lvm:vm-100-disk-1`.",
			Computed:            true,
		},
	}
}

var mountPointObjectType = objectTypeOf(mountPointAttributes())

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

func (mp mountPointModel) toLXC() lxcconf.MountPoint {
	acl := ""
	if known(mp.ACL) {
		acl = lxcBool(mp.ACL.ValueBool())
	}
	return lxcconf.MountPoint{
		Storage: mp.Storage.ValueString(), Volume: mp.Volume.ValueString(), Path: mp.Path.ValueString(),
		SizeGiB: mp.Size.ValueFloat64(), ReadOnly: mp.ReadOnly.ValueBool(), Backup: mp.Backup.ValueBool(),
		ACL: acl, Quota: mp.Quota.ValueBool(), Replicate: mp.Replicate.ValueBool(), Shared: mp.Shared.ValueBool(),
	}
}

func mountPointModelOf(mp lxcconf.MountPoint) mountPointModel {
	acl := types.BoolNull()
	if mp.ACL != "" {
		acl = types.BoolValue(mp.ACL == "1")
	}
	return mountPointModel{
		Storage: types.StringValue(mp.Storage), Size: types.Float64Value(mp.SizeGiB), Path: types.StringValue(mp.Path),
		ReadOnly: types.BoolValue(mp.ReadOnly), Backup: types.BoolValue(mp.Backup), ACL: acl, Quota: types.BoolValue(mp.Quota),
		Replicate: types.BoolValue(mp.Replicate), Shared: types.BoolValue(mp.Shared), Volume: types.StringValue(mp.Volume),
	}
}

func lxcBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// mountPointModelsOf reads the map; it is empty when null or unknown.
func mountPointModelsOf(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]mountPointModel {
	out := map[string]mountPointModel{}
	if known(m) {
		diags.Append(m.ElementsAs(ctx, &out, false)...)
	}
	return out
}

func mountPointsToLXC(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]lxcconf.MountPoint {
	out := map[string]lxcconf.MountPoint{}
	for slot, mp := range mountPointModelsOf(ctx, m, diags) {
		out[slot] = mp.toLXC()
	}
	return out
}

func mountPointsFromLXC(ctx context.Context, mps map[string]lxcconf.MountPoint, diags *diag.Diagnostics) types.Map {
	if len(mps) == 0 {
		return types.MapNull(mountPointObjectType)
	}
	models := make(map[string]mountPointModel, len(mps))
	for slot, mp := range mps {
		models[slot] = mountPointModelOf(mp)
	}
	v, d := types.MapValueFrom(ctx, mountPointObjectType, models)
	diags.Append(d...)
	return v
}

// planMountPoints keeps the allocated volume id of every slot that stays
// on the same storage.
func (in planInputs) planMountPoints(ctx context.Context, planned types.Map, diags *diag.Diagnostics) types.Map {
	if !known(planned) {
		return planned
	}
	mps := mountPointModelsOf(ctx, planned, diags)
	var prior map[string]mountPointModel
	if in.state != nil {
		prior = mountPointModelsOf(ctx, in.state.MountPoints, diags)
	}
	for slot, mp := range mps {
		mp.Volume = types.StringUnknown()
		if p, ok := prior[slot]; ok && p.Storage.Equal(mp.Storage) {
			mp.Volume = p.Volume
		}
		mps[slot] = mp
	}
	v, d := types.MapValueFrom(ctx, mountPointObjectType, mps)
	diags.Append(d...)
	return v
}

// mountPointReplacements lists the mount point changes PVE cannot make in
// place: another storage. (A smaller size is refused, see shrunkVolumes.)
func mountPointReplacements(ctx context.Context, planned, prior types.Map, diags *diag.Diagnostics) []path.Path {
	if planned.IsUnknown() || prior.IsNull() || planned.IsNull() {
		return nil
	}
	want, had := mountPointModelsOf(ctx, planned, diags), mountPointModelsOf(ctx, prior, diags)
	var out []path.Path
	for _, slot := range slices.Sorted(maps.Keys(had)) {
		mp, stays := want[slot]
		if stays && known(mp.Storage) && !mp.Storage.Equal(had[slot].Storage) {
			out = append(out, path.Root("mount_points").AtMapKey(slot).AtName("storage"))
		}
	}
	return out
}

package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// Proxmox VE grows volumes but cannot shrink them. A smaller disk_size or
// mount point size could only be had by replacing the container, which
// destroys all its data; a plan that would do so as a side effect of an
// edited number is refused, and the error says how to replace the
// container on purpose: taint it. (A tainted resource is planned as a
// create, so this check does not see it; -replace=<address> is planned as
// an update first, which this check refuses.)

// volumeShrink is a volume planned smaller than it is.
type volumeShrink struct {
	at       path.Path
	from, to float64 // GiB
}

// shrunkVolumes lists the root filesystem and the mount points that stay
// but are planned smaller than state has them.
func (in planInputs) shrunkVolumes(ctx context.Context, plan containerResourceModel, diags *diag.Diagnostics) []volumeShrink {
	st := in.state
	var out []volumeShrink
	if known(plan.DiskSize) && known(st.DiskSize) && plan.DiskSize.ValueFloat64() < st.DiskSize.ValueFloat64() {
		out = append(out, volumeShrink{at: path.Root("disk_size"), from: st.DiskSize.ValueFloat64(), to: plan.DiskSize.ValueFloat64()})
	}
	if !known(plan.MountPoints) || !known(st.MountPoints) {
		return out
	}
	want, had := mountPointModelsOf(ctx, plan.MountPoints, diags), mountPointModelsOf(ctx, st.MountPoints, diags)
	for _, slot := range slices.Sorted(maps.Keys(had)) {
		mp, stays := want[slot]
		if stays && known(mp.Size) && mp.Size.ValueFloat64() < had[slot].Size.ValueFloat64() {
			out = append(out, volumeShrink{at: path.Root("mount_points").AtMapKey(slot).AtName("size"),
				from: had[slot].Size.ValueFloat64(), to: mp.Size.ValueFloat64()})
		}
	}
	return out
}

// refuseShrinking reports each shrunk volume as an error at its attribute.
func refuseShrinking(shrinks []volumeShrink, diags *diag.Diagnostics) {
	for _, s := range shrinks {
		diags.AddAttributeError(s.at, "Volume Cannot Shrink", fmt.Sprintf(
			"%s is %s GiB, smaller than the %s GiB the volume has. Proxmox VE cannot shrink a volume: a smaller one "+
				"means replacing the whole container, and all its data would be lost. Keep %s at %s or more. To "+
				"rebuild the container with the smaller volume on purpose, mark it for replacement first with "+
				"`terraform taint <address>`, then apply (for example terraform taint 'pve_lxc_container.web'); "+
				"`terraform apply -replace=<address>` does not get past this check, since Terraform has the "+
				"provider plan the change before it turns it into a replacement.",
			s.at, gib(s.to), gib(s.from), s.at, gib(s.from)))
	}
}

// gib prints a size in GiB without a needless fraction.
func gib(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

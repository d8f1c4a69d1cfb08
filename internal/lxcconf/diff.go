package lxcconf

import (
	"fmt"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Change is what an update must do to get from the current settings to the
// desired ones.
type Change struct {
	Config  *pveapi.Params // PUT …/config (sets and deletes); empty when nothing to change
	Resizes []DiskResize   // PUT …/resize, before the config change
}

// DiskResize grows one disk to an absolute size.
type DiskResize struct {
	Disk string // rootfs or mpN
	Size string // absolute, e.g. "12G"
}

// Diff computes the in-place update from cur to want. Changes PVE cannot
// make in place (shrinking, storage moves, unprivileged) are refused at plan
// time, so they are not handled here.
func Diff(cur, want Settings) (Change, error) {
	d := differ{paramBuilder: newParamBuilder()}
	d.setOrDelete("hostname", cur.Hostname, want.Hostname)
	d.setOrDelete("cores", positiveInt(cur.Cores), positiveInt(want.Cores))
	d.setOrDelete("cpulimit", positiveFloat(cur.CPULimit), positiveFloat(want.CPULimit))
	if cur.Memory != want.Memory {
		d.p.SetInt("memory", want.Memory)
	}
	if cur.Swap != want.Swap {
		d.p.SetInt("swap", want.Swap)
	}
	if !cur.Features.Equal(want.Features) {
		d.setPropertyOrDelete("features", want.Features.Any(), want.Features.property(), plainFormat)
	}
	d.networks(cur.Networks, want.Networks)
	d.setOrDelete("nameserver", cur.Nameserver, want.Nameserver)
	d.setOrDelete("searchdomain", cur.Searchdomain, want.Searchdomain)
	d.setOrDelete("tags", pveformat.JoinTags(cur.Tags), pveformat.JoinTags(want.Tags))
	d.setOrDelete("description", cur.Description, want.Description)
	if cur.OnBoot != want.OnBoot {
		d.p.SetBool("onboot", want.OnBoot)
	}
	if cur.Startup != want.Startup {
		d.setPropertyOrDelete("startup", want.Startup.Set(), want.Startup.property(), plainFormat)
	}
	if want.DiskGiB > cur.DiskGiB {
		d.resizes = append(d.resizes, DiskResize{Disk: "rootfs", Size: formatSize(want.DiskGiB)})
	}
	d.mountPoints(cur.MountPoints, want.MountPoints)
	if d.err != nil {
		return Change{}, d.err
	}
	return Change{Config: d.p, Resizes: d.resizes}, nil
}

// differ collects the parts of a Change.
type differ struct {
	*paramBuilder
	resizes []DiskResize
}

func (d *differ) setOrDelete(key, cur, want string) {
	switch {
	case cur == want:
	case want == "":
		d.p.Delete(key)
	default:
		d.p.Set(key, want)
	}
}

func (d *differ) setPropertyOrDelete(key string, set bool, ps pveformat.PropertyString, f pveformat.PropertyFormat) {
	if set {
		d.property(key, ps, f)
	} else {
		d.p.Delete(key)
	}
}

func (d *differ) networks(cur, want []Network) {
	for i := 0; i < max(len(cur), len(want)); i++ {
		key := fmt.Sprintf("net%d", i)
		switch {
		case i >= len(want):
			d.p.Delete(key)
		case i >= len(cur):
			d.property(key, want[i].property(), netFormat)
		case networkChanged(cur[i], want[i]):
			d.property(key, want[i].keepGeneratedMAC(cur[i]).property(), netFormat)
		}
	}
}

func (d *differ) mountPoints(cur, want map[string]MountPoint) {
	for _, slot := range sortedSlots(cur) {
		if _, keep := want[slot]; !keep {
			d.p.Delete(slot)
		}
	}
	for _, slot := range sortedSlots(want) {
		w := want[slot]
		c, exists := cur[slot]
		if !exists {
			d.property(slot, w.newVolume(), volumeFormat)
			continue
		}
		// Resizes run before the config change, so an option change that
		// PVE keeps pending carries the new size, not the old one.
		if w.SizeGiB > c.SizeGiB {
			d.resizes = append(d.resizes, DiskResize{Disk: slot, Size: formatSize(w.SizeGiB)})
		} else {
			w.SizeGiB = c.SizeGiB
		}
		w.Volume = c.Volume
		if optionsChanged(c, w) {
			d.property(slot, w.existingVolume(), volumeFormat)
		}
	}
}

package lxcconf

import (
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// MountPoint is one mpN volume.
type MountPoint struct {
	Storage   string
	Volume    string // observed: e.g. local-lvm:vm-100-disk-1
	Path      string
	SizeGiB   float64
	ReadOnly  bool
	Backup    bool
	ACL       string // "" (storage default) | "1" | "0"
	Quota     bool
	Replicate bool
	Shared    bool
}

var volumeFormat = pveformat.PropertyFormat{DefaultKey: "volume", Required: []string{"mp"}, SizeKeys: []string{"size"}}

// options are a mount point's keys other than volume and size.
func (m MountPoint) options(ps *pveformat.PropertyString) {
	ps.Set("mp", m.Path)
	ps.Set("ro", flag(m.ReadOnly))
	ps.Set("backup", pveformat.FormatBool(m.Backup))
	ps.Set("acl", m.ACL)
	ps.Set("quota", flag(m.Quota))
	ps.Set("replicate", pveformat.FormatBool(m.Replicate))
	ps.Set("shared", flag(m.Shared))
}

// newVolume is a mount point that PVE should allocate (STORAGE:SIZE).
func (m MountPoint) newVolume() pveformat.PropertyString {
	var ps pveformat.PropertyString
	ps.Set("volume", m.Storage+":"+formatGiB(m.SizeGiB))
	m.options(&ps)
	return ps
}

// existingVolume is a mount point over its allocated volume, for changing
// its options in place.
func (m MountPoint) existingVolume() pveformat.PropertyString {
	var ps pveformat.PropertyString
	ps.Set("volume", m.Volume)
	m.options(&ps)
	ps.Set("size", pveformat.FormatDiskSize(gibBytes(m.SizeGiB)))
	return ps
}

func parseMountPoint(ps pveformat.PropertyString) (MountPoint, error) {
	mp := MountPoint{
		Volume: ps.Value("volume"), Path: ps.Value("mp"), ReadOnly: propertyBool(ps, "ro", false),
		Backup: propertyBool(ps, "backup", false), ACL: ps.Value("acl"), Quota: propertyBool(ps, "quota", false),
		Replicate: propertyBool(ps, "replicate", true), Shared: propertyBool(ps, "shared", false),
	}
	mp.Storage, _, _ = strings.Cut(mp.Volume, ":")
	var err error
	mp.SizeGiB, err = parseSizeGiB(ps.Value("size"))
	return mp, err
}

// optionsChanged compares everything but the volume, its storage and size.
func optionsChanged(cur, want MountPoint) bool {
	want.Storage, want.Volume, want.SizeGiB = cur.Storage, cur.Volume, cur.SizeGiB
	return cur != want
}

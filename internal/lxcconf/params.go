package lxcconf

import (
	"fmt"
	"maps"
	"slices"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

var (
	rootfsFormat = pveformat.PropertyFormat{DefaultKey: "volume"}
	plainFormat  = pveformat.PropertyFormat{}
)

// CreateParams are the POST /nodes/{node}/lxc parameters for s, besides
// vmid, ostemplate and the secrets the caller adds. A value that cannot be
// written into PVE's property strings is an error naming it.
func (s Settings) CreateParams() (*pveapi.Params, error) {
	b := newParamBuilder()
	b.setNonEmpty("hostname", s.Hostname)
	b.setNonEmpty("cores", positiveInt(s.Cores))
	b.setNonEmpty("cpulimit", positiveFloat(s.CPULimit))
	b.p.SetInt("memory", s.Memory)
	b.p.SetInt("swap", s.Swap)
	var root pveformat.PropertyString
	root.Set("volume", s.Storage+":"+formatGiB(s.DiskGiB))
	b.property("rootfs", root, rootfsFormat)
	b.p.SetBool("unprivileged", s.Unprivileged)
	// Never send an empty features=: PVE treats even that as a feature
	// change that only root@pam may make.
	if s.Features.Any() {
		b.property("features", s.Features.property(), plainFormat)
	}
	for i, n := range s.Networks {
		b.property(fmt.Sprintf("net%d", i), n.property(), netFormat)
	}
	b.setNonEmpty("nameserver", s.Nameserver)
	b.setNonEmpty("searchdomain", s.Searchdomain)
	b.setNonEmpty("tags", pveformat.JoinTags(s.Tags))
	b.setNonEmpty("description", s.Description)
	b.p.SetBool("onboot", s.OnBoot)
	if s.Startup.Set() {
		b.property("startup", s.Startup.property(), plainFormat)
	}
	for _, slot := range sortedSlots(s.MountPoints) {
		b.property(slot, s.MountPoints[slot].newVolume(), volumeFormat)
	}
	return b.p, b.err
}

// paramBuilder sets parameters in order and keeps the first encoding error.
type paramBuilder struct {
	p   *pveapi.Params
	err error
}

func newParamBuilder() *paramBuilder { return &paramBuilder{p: pveapi.NewParams()} }

func (b *paramBuilder) property(key string, ps pveformat.PropertyString, f pveformat.PropertyFormat) {
	if err := b.p.SetProperty(key, ps, f); err != nil && b.err == nil {
		b.err = err
	}
}

func (b *paramBuilder) setNonEmpty(key, value string) {
	if value != "" {
		b.p.Set(key, value)
	}
}

func sortedSlots(m map[string]MountPoint) []string {
	return slices.Sorted(maps.Keys(m))
}

// formatSize prints an absolute size in PVE's unit form, e.g. "12G".
func formatSize(g float64) string { return pveformat.FormatDiskSize(gibBytes(g)) }

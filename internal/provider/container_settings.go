package provider

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// containerSettings is one container's configuration in Proxmox VE terms,
// free of Terraform types: what the plan asks for, or what GET .../config
// reports. The resource converts its model to and from this; the functions
// here turn it into API parameters and diff two of them.
type containerSettings struct {
	Hostname     string
	Cores        int64   // 0 = unset (all host cores)
	CPULimit     float64 // 0 = unlimited
	Memory       int64   // MiB
	Swap         int64   // MiB
	Storage      string  // rootfs storage
	RootfsVolume string  // observed: e.g. local-lvm:vm-100-disk-0
	DiskGiB      float64
	Unprivileged bool
	Features     containerFeatures
	Networks     []networkSettings
	Nameserver   string
	Searchdomain string
	Tags         []string // normalised
	Description  string
	OnBoot       bool
	Startup      startupSettings
	MountPoints  map[string]mountPointSettings // keyed by slot, mp0…mp255
}

type containerFeatures struct {
	Nesting, Keyctl, Fuse, Mknod bool
	Mount                        []string // file system types, sorted
}

// any reports whether a feature flag is set; PVE then needs a features key.
func (f containerFeatures) any() bool {
	return f.Nesting || f.Keyctl || f.Fuse || f.Mknod || len(f.Mount) > 0
}

// beyondNesting reports whether a flag other than nesting is set: PVE lets
// only root@pam set those.
func (f containerFeatures) beyondNesting() bool {
	return f.Keyctl || f.Fuse || f.Mknod || len(f.Mount) > 0
}

func (f containerFeatures) equal(o containerFeatures) bool {
	return f.Nesting == o.Nesting && f.Keyctl == o.Keyctl && f.Fuse == o.Fuse && f.Mknod == o.Mknod && slices.Equal(f.Mount, o.Mount)
}

type networkSettings struct {
	Name     string
	Bridge   string
	IP       string // dhcp | manual | IPv4 CIDR | ""
	GW       string
	IP6      string // auto | dhcp | manual | IPv6 CIDR | ""
	GW6      string
	HWAddr   string // "" = let PVE generate one
	Firewall bool
	Tag      int64 // 0 = untagged
	MTU      int64 // 0 = bridge MTU
	Rate     float64
}

type startupSettings struct {
	Order, Up, Down int64 // -1 = unset
}

var noStartup = startupSettings{Order: -1, Up: -1, Down: -1}

func (s startupSettings) set() bool { return s != noStartup && s != (startupSettings{}) }

type mountPointSettings struct {
	Storage   string
	Volume    string // observed: e.g. local-lvm:vm-100-disk-1
	Path      string
	SizeGiB   float64
	ReadOnly  bool
	Backup    bool
	ACL       string // "" | "1" | "0"
	Quota     bool
	Replicate bool
	Shared    bool
}

// Property string formats of the keys the provider writes; PVE re-prints
// them canonically, so only parsing the read-back matters for equality.
var (
	netFormat    = pveformat.PropertyFormat{Required: []string{"name"}}
	volumeFormat = pveformat.PropertyFormat{DefaultKey: "volume", Required: []string{"mp"}, SizeKeys: []string{"size"}}
	plainFormat  = pveformat.PropertyFormat{}
)

// formatGiB prints a size in GiB the way PVE's STORAGE:SIZE syntax takes it.
func formatGiB(g float64) string { return strconv.FormatFloat(g, 'f', -1, 64) }

// gibBytes converts GiB to bytes, rounded to whole KiB as PVE sizes are.
func gibBytes(g float64) int64 {
	return int64(math.Round(g*float64(pveformat.GiB)/float64(pveformat.KiB))) * pveformat.KiB
}

func bytesGiB(b int64) float64 { return float64(b) / float64(pveformat.GiB) }

func (n networkSettings) property() pveformat.PropertyString {
	var ps pveformat.PropertyString
	ps.Set("name", n.Name)
	ps.Set("bridge", n.Bridge)
	ps.Set("hwaddr", n.HWAddr)
	ps.Set("ip", n.IP)
	ps.Set("gw", n.GW)
	ps.Set("ip6", n.IP6)
	ps.Set("gw6", n.GW6)
	if n.Firewall {
		ps.Set("firewall", "1")
	}
	if n.Tag > 0 {
		ps.Set("tag", strconv.FormatInt(n.Tag, 10))
	}
	if n.MTU > 0 {
		ps.Set("mtu", strconv.FormatInt(n.MTU, 10))
	}
	if n.Rate > 0 {
		ps.Set("rate", strconv.FormatFloat(n.Rate, 'f', -1, 64))
	}
	ps.Set("type", "veth")
	return ps
}

func (f containerFeatures) property() pveformat.PropertyString {
	var ps pveformat.PropertyString
	for _, flag := range []struct {
		key string
		on  bool
	}{{"fuse", f.Fuse}, {"keyctl", f.Keyctl}, {"mknod", f.Mknod}, {"nesting", f.Nesting}} {
		if flag.on {
			ps.Set(flag.key, "1")
		}
	}
	if len(f.Mount) > 0 {
		ps.Set("mount", strings.Join(f.Mount, ";"))
	}
	return ps
}

func (s startupSettings) property() pveformat.PropertyString {
	var ps pveformat.PropertyString
	if s.Order >= 0 {
		ps.Set("order", strconv.FormatInt(s.Order, 10))
	}
	if s.Up >= 0 {
		ps.Set("up", strconv.FormatInt(s.Up, 10))
	}
	if s.Down >= 0 {
		ps.Set("down", strconv.FormatInt(s.Down, 10))
	}
	return ps
}

// mountOptions are a mount point's flags other than volume, path and size.
func (m mountPointSettings) options(ps *pveformat.PropertyString) {
	ps.Set("mp", m.Path)
	ps.Set("ro", boolFlag(m.ReadOnly))
	ps.Set("backup", pveformat.FormatBool(m.Backup))
	ps.Set("acl", m.ACL)
	ps.Set("quota", boolFlag(m.Quota))
	ps.Set("replicate", pveformat.FormatBool(m.Replicate))
	ps.Set("shared", boolFlag(m.Shared))
}

// boolFlag is "1" for true and "" (not sent) for false, for flags whose
// default is off.
func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// newVolume prints a mount point that PVE should allocate (STORAGE:SIZE).
func (m mountPointSettings) newVolume() string {
	var ps pveformat.PropertyString
	ps.Set("volume", m.Storage+":"+formatGiB(m.SizeGiB))
	m.options(&ps)
	return volumeFormat.Format(ps)
}

// existingVolume prints a mount point over its allocated volume, for
// changing its options in place.
func (m mountPointSettings) existingVolume() string {
	var ps pveformat.PropertyString
	ps.Set("volume", m.Volume)
	m.options(&ps)
	ps.Set("size", pveformat.FormatDiskSize(gibBytes(m.SizeGiB)))
	return volumeFormat.Format(ps)
}

// createParams are the POST /nodes/{node}/lxc parameters for s, besides
// vmid, ostemplate and the secrets the caller adds.
func (s containerSettings) createParams() *pveapi.Params {
	p := pveapi.NewParams()
	if s.Hostname != "" {
		p.Set("hostname", s.Hostname)
	}
	if s.Cores > 0 {
		p.SetInt("cores", s.Cores)
	}
	if s.CPULimit > 0 {
		p.Set("cpulimit", strconv.FormatFloat(s.CPULimit, 'f', -1, 64))
	}
	p.SetInt("memory", s.Memory)
	p.SetInt("swap", s.Swap)
	p.Set("rootfs", s.Storage+":"+formatGiB(s.DiskGiB))
	p.SetBool("unprivileged", s.Unprivileged)
	// Never send an empty features=: PVE treats even that as a feature
	// change that only root@pam may make.
	if s.Features.any() {
		p.SetProperty("features", s.Features.property(), plainFormat)
	}
	for i, n := range s.Networks {
		p.SetProperty(fmt.Sprintf("net%d", i), n.property(), netFormat)
	}
	if s.Nameserver != "" {
		p.Set("nameserver", s.Nameserver)
	}
	if s.Searchdomain != "" {
		p.Set("searchdomain", s.Searchdomain)
	}
	if len(s.Tags) > 0 {
		p.Set("tags", pveformat.JoinTags(s.Tags))
	}
	if s.Description != "" {
		p.Set("description", s.Description)
	}
	p.SetBool("onboot", s.OnBoot)
	if s.Startup.set() {
		p.SetProperty("startup", s.Startup.property(), plainFormat)
	}
	for _, slot := range sortedSlots(s.MountPoints) {
		p.Set(slot, s.MountPoints[slot].newVolume())
	}
	return p
}

// containerChange is what an update must do to get from the current
// settings to the desired ones.
type containerChange struct {
	Config  *pveapi.Params // PUT .../config (sets and deletes); empty when nothing to change
	Resizes []diskResize   // PUT .../resize, before the config change
}

type diskResize struct {
	Disk string // rootfs or mpN
	Size string // absolute, e.g. "12G"
}

// diffSettings computes the in-place update from cur to want. Changes PVE
// cannot make in place (shrinking, storage moves, unprivileged) are caught
// at plan time as replacements, so they are not handled here.
func diffSettings(cur, want containerSettings) containerChange {
	p := pveapi.NewParams()
	setOrDelete := func(key, curV, wantV string) {
		switch {
		case curV == wantV:
		case wantV == "":
			p.Delete(key)
		default:
			p.Set(key, wantV)
		}
	}
	setOrDelete("hostname", cur.Hostname, want.Hostname)
	setOrDelete("cores", positiveInt(cur.Cores), positiveInt(want.Cores))
	setOrDelete("cpulimit", positiveFloat(cur.CPULimit), positiveFloat(want.CPULimit))
	if cur.Memory != want.Memory {
		p.SetInt("memory", want.Memory)
	}
	if cur.Swap != want.Swap {
		p.SetInt("swap", want.Swap)
	}
	if !cur.Features.equal(want.Features) {
		if want.Features.any() {
			p.SetProperty("features", want.Features.property(), plainFormat)
		} else {
			p.Delete("features")
		}
	}
	for i := 0; i < max(len(cur.Networks), len(want.Networks)); i++ {
		key := fmt.Sprintf("net%d", i)
		switch {
		case i >= len(want.Networks):
			p.Delete(key)
		case i >= len(cur.Networks) || networkChanged(cur.Networks[i], want.Networks[i]):
			n := want.Networks[i]
			if n.HWAddr == "" && i < len(cur.Networks) {
				n.HWAddr = cur.Networks[i].HWAddr // keep the MAC PVE generated
			}
			p.SetProperty(key, n.property(), netFormat)
		}
	}
	setOrDelete("nameserver", cur.Nameserver, want.Nameserver)
	setOrDelete("searchdomain", cur.Searchdomain, want.Searchdomain)
	setOrDelete("tags", pveformat.JoinTags(cur.Tags), pveformat.JoinTags(want.Tags))
	setOrDelete("description", cur.Description, want.Description)
	if cur.OnBoot != want.OnBoot {
		p.SetBool("onboot", want.OnBoot)
	}
	if cur.Startup != want.Startup {
		if want.Startup.set() {
			p.SetProperty("startup", want.Startup.property(), plainFormat)
		} else {
			p.Delete("startup")
		}
	}

	var resizes []diskResize
	if want.DiskGiB > cur.DiskGiB {
		resizes = append(resizes, diskResize{Disk: "rootfs", Size: pveformat.FormatDiskSize(gibBytes(want.DiskGiB))})
	}
	for _, slot := range sortedSlots(cur.MountPoints) {
		if _, keep := want.MountPoints[slot]; !keep {
			p.Delete(slot)
		}
	}
	for _, slot := range sortedSlots(want.MountPoints) {
		w := want.MountPoints[slot]
		c, exists := cur.MountPoints[slot]
		if !exists {
			p.Set(slot, w.newVolume())
			continue
		}
		// Resizes run before the config change, so an option change that
		// PVE keeps pending carries the new size, not the old one.
		if w.SizeGiB > c.SizeGiB {
			resizes = append(resizes, diskResize{Disk: slot, Size: pveformat.FormatDiskSize(gibBytes(w.SizeGiB))})
		} else {
			w.SizeGiB = c.SizeGiB
		}
		w.Volume = c.Volume
		if mountOptionsChanged(c, w) {
			p.Set(slot, w.existingVolume())
		}
	}
	return containerChange{Config: p, Resizes: resizes}
}

func networkChanged(cur, want networkSettings) bool {
	if want.HWAddr == "" {
		want.HWAddr = cur.HWAddr
	}
	return !strings.EqualFold(cur.HWAddr, want.HWAddr) || cur.Name != want.Name || cur.Bridge != want.Bridge ||
		cur.IP != want.IP || cur.GW != want.GW || cur.IP6 != want.IP6 || cur.GW6 != want.GW6 ||
		cur.Firewall != want.Firewall || cur.Tag != want.Tag || cur.MTU != want.MTU || cur.Rate != want.Rate
}

func mountOptionsChanged(cur, want mountPointSettings) bool {
	return cur.Path != want.Path || cur.ReadOnly != want.ReadOnly || cur.Backup != want.Backup || cur.ACL != want.ACL ||
		cur.Quota != want.Quota || cur.Replicate != want.Replicate || cur.Shared != want.Shared
}

func positiveInt(v int64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

func positiveFloat(v float64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func sortedSlots(m map[string]mountPointSettings) []string {
	return slices.Sorted(maps.Keys(m))
}

// settingsFromConfig reads a container config as GET .../config returns
// it. Keys PVE fills in with defaults read as those defaults.
func settingsFromConfig(cfg pveapi.ContainerConfig) (containerSettings, error) {
	var s containerSettings
	var err error
	fail := func(key string, e error) error { return fmt.Errorf("reading %s of the container config: %w", key, e) }

	s.Hostname = cfg.Value("hostname")
	if s.Cores, err = cfg.Int("cores", 0); err != nil {
		return s, fail("cores", err)
	}
	if s.CPULimit, err = cfg.Float("cpulimit", 0); err != nil {
		return s, fail("cpulimit", err)
	}
	if s.Memory, err = cfg.Int("memory", 512); err != nil {
		return s, fail("memory", err)
	}
	if s.Swap, err = cfg.Int("swap", 512); err != nil {
		return s, fail("swap", err)
	}
	if s.Unprivileged, err = cfg.Bool("unprivileged", false); err != nil {
		return s, fail("unprivileged", err)
	}
	if s.OnBoot, err = cfg.Bool("onboot", false); err != nil {
		return s, fail("onboot", err)
	}
	if root, ok, err := cfg.Property("rootfs", "volume"); err != nil {
		return s, fail("rootfs", err)
	} else if ok {
		s.RootfsVolume = root.Value("volume")
		s.Storage, _, _ = strings.Cut(s.RootfsVolume, ":")
		if size := root.Value("size"); size != "" {
			b, err := pveformat.ParseDiskSize(size)
			if err != nil {
				return s, fail("rootfs", err)
			}
			s.DiskGiB = bytesGiB(b)
		}
	}
	if f, ok, err := cfg.Property("features", ""); err != nil {
		return s, fail("features", err)
	} else if ok {
		s.Features = containerFeatures{
			Nesting: propertyBool(f, "nesting"), Keyctl: propertyBool(f, "keyctl"),
			Fuse: propertyBool(f, "fuse"), Mknod: propertyBool(f, "mknod"),
		}
		if m := f.Value("mount"); m != "" {
			s.Features.Mount = strings.Split(m, ";")
			slices.Sort(s.Features.Mount)
		}
	}
	for _, i := range cfg.Slots("net") {
		key := fmt.Sprintf("net%d", i)
		n, _, err := cfg.Property(key, "")
		if err != nil {
			return s, fail(key, err)
		}
		for len(s.Networks) < i {
			s.Networks = append(s.Networks, networkSettings{}) // a gap: net1 without net0
		}
		ns := networkSettings{
			Name: n.Value("name"), Bridge: n.Value("bridge"), IP: n.Value("ip"), GW: n.Value("gw"),
			IP6: n.Value("ip6"), GW6: n.Value("gw6"), HWAddr: strings.ToUpper(n.Value("hwaddr")),
			Firewall: propertyBool(n, "firewall"),
		}
		if ns.Tag, err = propertyInt(n, "tag"); err != nil {
			return s, fail(key, err)
		}
		if ns.MTU, err = propertyInt(n, "mtu"); err != nil {
			return s, fail(key, err)
		}
		if r := n.Value("rate"); r != "" {
			if ns.Rate, err = strconv.ParseFloat(r, 64); err != nil {
				return s, fail(key, err)
			}
		}
		s.Networks = append(s.Networks, ns)
	}
	s.Nameserver = cfg.Value("nameserver")
	s.Searchdomain = cfg.Value("searchdomain")
	s.Tags = pveformat.NormalizeTags(pveformat.SplitTags(cfg.Value("tags")))
	s.Description = normalizeDescription(cfg.Value("description"))
	s.Startup = noStartup
	if st, ok, err := cfg.Property("startup", "order"); err != nil {
		return s, fail("startup", err)
	} else if ok {
		for _, f := range []struct {
			key string
			dst *int64
		}{{"order", &s.Startup.Order}, {"up", &s.Startup.Up}, {"down", &s.Startup.Down}} {
			if v := st.Value(f.key); v != "" {
				if *f.dst, err = strconv.ParseInt(v, 10, 64); err != nil {
					return s, fail("startup", err)
				}
			}
		}
	}
	s.MountPoints = map[string]mountPointSettings{}
	for _, i := range cfg.Slots("mp") {
		key := fmt.Sprintf("mp%d", i)
		m, _, err := cfg.Property(key, "volume")
		if err != nil {
			return s, fail(key, err)
		}
		mp := mountPointSettings{
			Volume: m.Value("volume"), Path: m.Value("mp"), ReadOnly: propertyBool(m, "ro"),
			Backup: propertyBoolDefault(m, "backup", false), ACL: m.Value("acl"), Quota: propertyBool(m, "quota"),
			Replicate: propertyBoolDefault(m, "replicate", true), Shared: propertyBool(m, "shared"),
		}
		mp.Storage, _, _ = strings.Cut(mp.Volume, ":")
		if size := m.Value("size"); size != "" {
			b, err := pveformat.ParseDiskSize(size)
			if err != nil {
				return s, fail(key, err)
			}
			mp.SizeGiB = bytesGiB(b)
		}
		s.MountPoints[key] = mp
	}
	return s, nil
}

func propertyBool(ps pveformat.PropertyString, key string) bool {
	return propertyBoolDefault(ps, key, false)
}

func propertyBoolDefault(ps pveformat.PropertyString, key string, def bool) bool {
	v, ok := ps.Get(key)
	if !ok {
		return def
	}
	b, valid := pveformat.ParseBool(v)
	if !valid {
		return def
	}
	return b
}

func propertyInt(ps pveformat.PropertyString, key string) (int64, error) {
	v := ps.Value(key)
	if v == "" {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// normalizeDescription undoes what PVE does to a description on the way
// through its config file: every line comes back with "\n" appended and
// blank lines are dropped. The normalised form has no blank lines and no
// trailing newline, so a description compares equal however it was
// written.
func normalizeDescription(s string) string {
	var lines []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimSpace(line) != "" {
			lines = append(lines, strings.TrimRight(line, "\r"))
		}
	}
	return strings.Join(lines, "\n")
}

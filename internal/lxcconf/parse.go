package lxcconf

import (
	"fmt"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Parse reads a container config as GET …/config returns it. Keys PVE
// fills in with defaults read as those defaults. An error names the key
// that cannot be read.
func Parse(cfg pveapi.ContainerConfig) (Settings, error) {
	s := Settings{
		Hostname:     cfg.Value("hostname"),
		Nameserver:   cfg.Value("nameserver"),
		Searchdomain: cfg.Value("searchdomain"),
		Tags:         pveformat.NormalizeTags(pveformat.SplitTags(cfg.Value("tags"))),
		Description:  NormalizeDescription(cfg.Value("description")),
		Startup:      NoStartup,
		MountPoints:  map[string]MountPoint{},
	}
	for _, step := range []struct {
		key  string
		read func() error
	}{
		{"cores", func() (err error) { s.Cores, err = cfg.Int("cores", 0); return }},
		{"cpulimit", func() (err error) { s.CPULimit, err = cfg.Float("cpulimit", 0); return }},
		{"memory", func() (err error) { s.Memory, err = cfg.Int("memory", DefaultMemory); return }},
		{"swap", func() (err error) { s.Swap, err = cfg.Int("swap", DefaultSwap); return }},
		{"unprivileged", func() (err error) { s.Unprivileged, err = cfg.Bool("unprivileged", false); return }},
		{"onboot", func() (err error) { s.OnBoot, err = cfg.Bool("onboot", false); return }},
		{"rootfs", func() error { return s.parseRootfs(cfg) }},
		{"features", func() error { return s.parseFeatures(cfg) }},
		{"startup", func() error { return s.parseStartup(cfg) }},
	} {
		if err := step.read(); err != nil {
			return s, fmt.Errorf("reading %s of the container config: %w", step.key, err)
		}
	}
	if err := s.parseNetworks(cfg); err != nil {
		return s, err
	}
	return s, s.parseMountPoints(cfg)
}

func (s *Settings) parseRootfs(cfg pveapi.ContainerConfig) error {
	root, ok, err := cfg.Property("rootfs", "volume")
	if err != nil || !ok {
		return err
	}
	s.RootfsVolume = root.Value("volume")
	s.Storage, _, _ = strings.Cut(s.RootfsVolume, ":")
	s.DiskGiB, err = parseSizeGiB(root.Value("size"))
	return err
}

func (s *Settings) parseFeatures(cfg pveapi.ContainerConfig) error {
	f, ok, err := cfg.Property("features", "")
	if ok && err == nil {
		s.Features = parseFeatures(f)
	}
	return err
}

func (s *Settings) parseStartup(cfg pveapi.ContainerConfig) error {
	st, ok, err := cfg.Property("startup", "order")
	if ok && err == nil {
		s.Startup, err = parseStartup(st)
	}
	return err
}

func (s *Settings) parseNetworks(cfg pveapi.ContainerConfig) error {
	for _, i := range cfg.Slots("net") {
		key := fmt.Sprintf("net%d", i)
		ps, _, err := cfg.Property(key, "")
		if err != nil {
			return fmt.Errorf("reading %s of the container config: %w", key, err)
		}
		for len(s.Networks) < i {
			s.Networks = append(s.Networks, Network{}) // a gap: net1 without net0
		}
		n, err := parseNetwork(ps)
		if err != nil {
			return fmt.Errorf("reading %s of the container config: %w", key, err)
		}
		s.Networks = append(s.Networks, n)
	}
	return nil
}

func (s *Settings) parseMountPoints(cfg pveapi.ContainerConfig) error {
	for _, i := range cfg.Slots("mp") {
		key := fmt.Sprintf("mp%d", i)
		ps, _, err := cfg.Property(key, "volume")
		if err != nil {
			return fmt.Errorf("reading %s of the container config: %w", key, err)
		}
		mp, err := parseMountPoint(ps)
		if err != nil {
			return fmt.Errorf("reading %s of the container config: %w", key, err)
		}
		s.MountPoints[key] = mp
	}
	return nil
}

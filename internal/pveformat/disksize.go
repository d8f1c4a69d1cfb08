package pveformat

import (
	"fmt"
	"regexp"
	"strconv"
)

var diskSizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?)([KMGT])?$`)

// Byte multiples PVE's disk-size format knows.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

// ParseDiskSize reads PVE's disk-size format ("8G", "512M", "1.5T", or a
// bare number of bytes) into bytes, truncating fractions as PVE does.
func ParseDiskSize(s string) (int64, error) {
	m := diskSizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("unable to parse value '%s' as disk size", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("unable to parse value '%s' as disk size", s)
	}
	switch m[2] {
	case "K":
		f *= float64(KiB)
	case "M":
		f *= float64(MiB)
	case "G":
		f *= float64(GiB)
	case "T":
		f *= float64(TiB)
	}
	return int64(f), nil
}

// FormatDiskSize prints bytes in the largest unit that divides them exactly,
// the way PVE writes size= back into a config ("8G", "1536M", "1000").
func FormatDiskSize(n int64) string {
	if n%KiB != 0 {
		return strconv.FormatInt(n, 10)
	}
	for _, u := range []struct {
		div    int64
		suffix string
	}{{TiB, "T"}, {GiB, "G"}, {MiB, "M"}, {KiB, "K"}} {
		if n%u.div == 0 {
			return strconv.FormatInt(n/u.div, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

package pveformat

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

// diskSizeRE is pve-common's parse_size syntax: a decimal number with an
// optional unit, "K" or "KiB" and so on.
var diskSizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?)(?:([KMGT])(?:iB)?)?$`)

// Byte multiples PVE's disk-size format knows.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

// MaxDiskGiB is the largest whole number of GiB a volume can have: sizes
// from 8 EiB (2^33 GiB) on fit neither a byte count nor a block device.
const MaxDiskGiB int64 = 1<<33 - 1

// maxDiskSizeBytes is the first size that no longer fits an int64 of bytes
// (8 EiB, also the largest volume Linux block devices and LVM support).
const maxDiskSizeBytes = float64(math.MaxInt64) // == 2^63 as a float64

// ParseDiskSize reads PVE's disk-size format ("8G", "512M", "1.5T",
// "8GiB", or a bare number of bytes) into bytes, truncating fractions as PVE
// does. A size of 8 EiB or more is an error: no volume can have it, and
// it does not fit the byte count (converting it would wrap around to a
// negative size).
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
	if f >= maxDiskSizeBytes {
		return 0, fmt.Errorf("disk size '%s' is too large: volumes are limited to less than 8 EiB", s)
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

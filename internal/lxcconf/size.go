package lxcconf

import (
	"math"
	"strconv"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// formatGiB prints a size in GiB the way PVE's STORAGE:SIZE syntax takes it.
func formatGiB(g float64) string { return strconv.FormatFloat(g, 'f', -1, 64) }

// gibBytes converts GiB to bytes, rounded to whole KiB as PVE sizes are.
func gibBytes(g float64) int64 {
	return int64(math.Round(g*float64(pveformat.GiB)/float64(pveformat.KiB))) * pveformat.KiB
}

func bytesGiB(b int64) float64 { return float64(b) / float64(pveformat.GiB) }

// parseSizeGiB reads a size= value ("8G", "512M") as GiB; "" is 0.
func parseSizeGiB(size string) (float64, error) {
	if size == "" {
		return 0, nil
	}
	b, err := pveformat.ParseDiskSize(size)
	if err != nil {
		return 0, err
	}
	return bytesGiB(b), nil
}

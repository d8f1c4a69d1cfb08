package pveformat

import (
	"regexp"
	"strconv"
	"strings"
)

// Appliance file names follow "<name>_<version>_<arch>.tar.<ext>"
// ("debian-12-standard_12.7-1_amd64.tar.zst"). Users name an image by the
// appliance name alone ("debian-12-standard") and mean its newest version;
// the API client and the simulator resolve names with these functions.

// ApplianceName is the appliance name of a file name: the part before the
// first "_", or "" when the name has no version part.
func ApplianceName(file string) string {
	name, _, ok := strings.Cut(file, "_")
	if !ok {
		return ""
	}
	return name
}

// ApplianceMatches says whether file (an appliance file name) is the image
// ref names: the same file, or ref is its appliance name.
func ApplianceMatches(ref, file string) bool {
	if ref == file {
		return true
	}
	name := ApplianceName(file)
	return name != "" && name == ref
}

// CompareApplianceVersions orders appliance file names by the numbers of
// their version field, so "…_12.10-1_…" is newer than "…_12.7-1_…" and
// "…_12.7-1_…" newer than "…_12.7_…". Only the version field counts: the
// digits of the architecture ("amd64") would otherwise decide between
// versions of different lengths. Equal numbers fall back to comparing the
// names, so the order is strict and stable.
func CompareApplianceVersions(a, b string) int {
	na, nb := numbersIn(applianceVersion(a)), numbersIn(applianceVersion(b))
	for i := 0; i < min(len(na), len(nb)); i++ {
		if na[i] != nb[i] {
			if na[i] < nb[i] {
				return -1
			}
			return 1
		}
	}
	if len(na) != len(nb) {
		return len(na) - len(nb)
	}
	return strings.Compare(a, b)
}

// applianceVersion is the version field of an appliance file name, or the
// whole text when it has none.
func applianceVersion(file string) string {
	_, rest, ok := strings.Cut(file, "_")
	if !ok {
		return file
	}
	version, _, _ := strings.Cut(rest, "_")
	return version
}

var numberRE = regexp.MustCompile(`\d+`)

func numbersIn(s string) []int64 {
	var out []int64
	for _, m := range numberRE.FindAllString(s, -1) {
		n, err := strconv.ParseInt(m, 10, 64)
		if err == nil {
			out = append(out, n)
		}
	}
	return out
}

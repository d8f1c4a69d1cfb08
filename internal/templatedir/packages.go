package templatedir

import (
	"path"
	"strings"
)

// ParsePackageFile parses one package file "<bucket>.<ext>" (the bucket
// name and the manager come from the base name of file; ext is one of
// Managers()). Problems name file and line; an invalid spec is an error, a
// duplicate within the file a warning (kept once). pve_package_bucket loads
// source files with this function, so a bucket and a template directory
// accept exactly the same files.
func ParsePackageFile(file string, content []byte) ([]Package, Problems) {
	var probs Problems
	base := path.Base(file)
	ext := path.Ext(base)
	bucket := strings.TrimSuffix(base, ext)
	manager := strings.TrimPrefix(ext, ".")
	if !isKnownManager(manager) {
		probs.errorf(file, 0, "unknown package file extension %s (use .%s)", excerpt(ext), strings.Join(Managers(), ", ."))
		return nil, probs
	}
	if bucket == "" {
		probs.errorf(file, 0, "package file has an empty bucket name (expected <bucket>.%s)", manager)
		return nil, probs
	}

	var pkgs []Package
	firstLine := make(map[string]int)
	for i, line := range strings.Split(string(content), "\n") {
		lineNo := i + 1
		var pkg Package
		var err error
		if manager == ManagerCustom {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' { // only full-line comments: "#" may be part of a command
				continue
			}
			pkg, err = parseCustomLine(line)
		} else {
			line = strings.TrimSpace(stripPackageComment(line))
			if line == "" {
				continue
			}
			pkg, err = ValidatePackageSpec(manager, line)
		}
		if err != nil {
			probs.errorf(file, lineNo, "%s", err.Error())
			continue
		}
		if first, dup := firstLine[pkg.Spec]; dup {
			probs.warnf(file, lineNo, "duplicate package %s (first on line %d) is kept once", excerpt(pkg.Spec), first)
			continue
		}
		firstLine[pkg.Spec] = lineNo
		pkg.Bucket = bucket
		pkgs = append(pkgs, pkg)
	}
	return pkgs, probs
}

// stripPackageComment cuts a "#" comment that starts the line or follows
// whitespace; a "#" inside a word stays (and then fails validation).
func stripPackageComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

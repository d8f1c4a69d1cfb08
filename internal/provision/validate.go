package provision

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// The agent reads step metadata as tab-separated lines, so names that end
// up in a step key or in its metadata must not hold control characters.
// Such names are refused here with the item named, never mangled.

// hasControl reports whether s holds a control character.
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// checkBucket validates a bucket's name and rows.
func checkBucket(s step) []error {
	var errs []error
	where := Describe(s.key)
	if s.bucket == "" {
		errs = append(errs, fmt.Errorf("a %s package has an empty bucket name", s.manager))
	} else if hasControl(s.bucket) {
		errs = append(errs, fmt.Errorf("%s: the bucket name contains control characters", where))
	}
	for _, r := range s.rows {
		if s.manager == templatedir.ManagerCustom {
			switch {
			case r.Spec == "" || hasControl(r.Spec) || strings.Contains(r.Spec, "|"):
				errs = append(errs, fmt.Errorf("%s: custom installer name %q must be non-empty, without control characters or \"|\"", where, r.Spec))
			case strings.TrimSpace(r.Check) == "":
				errs = append(errs, fmt.Errorf("%s: custom installer %q has an empty check command", where, r.Spec))
			case strings.TrimSpace(r.Install) == "":
				errs = append(errs, fmt.Errorf("%s: custom installer %q has an empty install command", where, r.Spec))
			case r.Timeout < 0:
				errs = append(errs, fmt.Errorf("%s: custom installer %q has a negative timeout", where, r.Spec))
			case strings.ContainsRune(r.Check+r.Install, 0):
				errs = append(errs, fmt.Errorf("%s: custom installer %q contains a NUL byte", where, r.Spec))
			}
			continue
		}
		if _, err := templatedir.ValidatePackageSpec(s.manager, r.Spec); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	return errs
}

// checkScript validates a script's name, and that its content matches its
// recorded digest unless it is compact (content read at apply).
func checkScript(sc templatedir.Script, compact bool) error {
	switch {
	case sc.Name == "" || sc.Name == "." || sc.Name == "..":
		return fmt.Errorf("a script has the invalid name %q", sc.Name)
	case strings.Contains(sc.Name, "/") || hasControl(sc.Name):
		return fmt.Errorf("script %q: the name must not contain \"/\" or control characters", sc.Name)
	case strings.ContainsRune(sc.Content, 0):
		return fmt.Errorf("script %q contains a NUL byte, which no shell can run", sc.Name)
	case !compact && !sc.ContentLoaded():
		return fmt.Errorf("script %q: its sha256 %s does not match its content (%s)", sc.Name, sc.SHA256, templatedir.Script{Content: sc.Content}.ContentDigest())
	}
	return nil
}

// checkFile validates a file's target, policy and recorded digest.
func checkFile(f templatedir.File, contentSHA string) []error {
	var errs []error
	name := fmt.Sprintf("file %q", f.Name)
	if f.Name == "" || f.Name == "." || f.Name == ".." || strings.Contains(f.Name, "/") || hasControl(f.Name) {
		errs = append(errs, fmt.Errorf("%s: the name must be a plain file name without control characters", name))
	}
	switch {
	case !path.IsAbs(f.TargetPath):
		errs = append(errs, fmt.Errorf("%s: target path %q is not absolute", name, f.TargetPath))
	case path.Clean(f.TargetPath) != f.TargetPath && path.Clean(f.TargetPath)+"/" != f.TargetPath:
		errs = append(errs, fmt.Errorf("%s: target path %q is not clean (no \"..\", \".\" or \"//\")", name, f.TargetPath))
	case hasControl(f.TargetPath):
		errs = append(errs, fmt.Errorf("%s: target path %q contains control characters", name, f.TargetPath))
	}
	if !slices.Contains(templatedir.Policies(), f.Policy) {
		errs = append(errs, fmt.Errorf("%s: unknown policy %q (use %s)", name, f.Policy, strings.Join(templatedir.Policies(), ", ")))
	}
	if f.SHA256 != "" && !strings.EqualFold(f.SHA256, contentSHA) {
		errs = append(errs, fmt.Errorf("%s: its sha256 %s does not match its content (%s)", name, f.SHA256, contentSHA))
	}
	return errs
}

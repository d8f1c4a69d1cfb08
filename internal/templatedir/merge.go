package templatedir

import (
	"fmt"
	"strings"
)

// PackageConflictError reports two rows that install the same package of
// the same manager at different versions: merging them would leave which
// version wins to chance.
type PackageConflictError struct {
	Manager, Name string
	First, Second Package
}

func (e *PackageConflictError) Error() string {
	return fmt.Sprintf("%s package %s is pinned differently by bucket %q (%s) and bucket %q (%s); keep one version",
		e.Manager, e.Name, e.First.Bucket, e.First.Spec, e.Second.Bucket, e.Second.Spec)
}

// MergePackages appends the rows of more to base, in order, dropping exact
// duplicates (same manager and spec) and refusing the same package at two
// different versions. Buckets, templates with extra buckets and inline rows
// all merge through it.
func MergePackages(base []Package, more ...[]Package) ([]Package, error) {
	out := make([]Package, 0, len(base))
	seen := map[string]Package{}   // manager + spec
	byName := map[string]Package{} // manager + name
	add := func(p Package) error {
		key := p.Manager + "\x00" + p.Spec
		if _, dup := seen[key]; dup {
			return nil
		}
		nameKey := p.Manager + "\x00" + strings.ToLower(packageIdentity(p))
		if prev, ok := byName[nameKey]; ok && prev.Spec != p.Spec {
			return &PackageConflictError{Manager: p.Manager, Name: packageIdentity(p), First: prev, Second: p}
		}
		seen[key] = p
		byName[nameKey] = p
		out = append(out, p)
		return nil
	}
	for _, p := range base {
		if err := add(p); err != nil {
			return nil, err
		}
	}
	for _, list := range more {
		for _, p := range list {
			if err := add(p); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// packageIdentity is what two rows must share to be "the same package":
// the split name, or the spec when the manager has no reliable split (dnf).
func packageIdentity(p Package) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Spec
}

package templatedir

import (
	"path"
	"strings"
)

// packages reads container-configs/packages: one bucket per known
// "<bucket>.<ext>" file, in bucket order, lines in file order.
func (t *tree) packages(dir node) []Package {
	out := []Package{}
	for _, e := range t.list(dir) {
		if ignoredNames[e.Name()] {
			continue
		}
		name, ok := t.entryName(dir, e)
		if !ok {
			continue
		}
		n, ok := t.child(dir, e)
		if !ok {
			continue
		}
		if n.isDir() {
			t.probs.warnf(n.display, 0, "ignored: subdirectories of packages/ are not read")
			continue
		}
		if !isKnownManager(strings.TrimPrefix(path.Ext(name), ".")) {
			t.probs.warnf(n.display, 0, "ignored: unknown package file extension (use .%s)", strings.Join(Managers(), ", ."))
			continue
		}
		data, ok := t.readRegular(n)
		if !ok {
			continue
		}
		pkgs, probs := ParsePackageFile(n.display, data)
		t.probs.merge(probs)
		out = append(out, pkgs...)
	}
	return out
}

package templatedir

import (
	"io/fs"
	"strings"
	"unicode/utf8"
)

// Template is one parsed template directory.
type Template struct {
	// Name is the directory name; it is also Spec.Name.
	Name string
	// Spec is filled as far as parsing got. It is complete (and its digest
	// meaningful) only when the template is Valid; entries with errors are
	// left out of it.
	Spec Spec
	// Problems found in the template's files.
	Problems
}

// Valid reports whether the template has no errors (warnings are fine).
func (t *Template) Valid() bool { return len(t.Errors) == 0 }

// Layout of a template directory.
const (
	confFile    = "template.conf"
	configsDir  = "container-configs"
	scriptsDir  = "scripts"
	packagesDir = "packages"
	filesDir    = "files"
)

// ignoredNames are documentation and tooling files of the reference system,
// ignored silently wherever they appear.
var ignoredNames = map[string]bool{
	"README.md":      true,
	"CREDENTIALS.md": true,
	"TESTING.md":     true,
	"container.sh":   true,
	".gitkeep":       true,
}

// parseTemplate reads the template whose directory is t.root and lists as
// entries. dirName is the directory's name as the file system has it; the
// template is named after it, with invalid UTF-8 replaced, and a name
// ValidateName refuses makes the template invalid.
func parseTemplate(t *tree, dirName string, entries []fs.DirEntry) *Template {
	name := strings.ToValidUTF8(dirName, "\uFFFD")
	tpl := &Template{Name: name}
	if t.probs != nil {
		tpl.Problems = *t.probs
	}
	t.probs = &tpl.Problems
	if err := ValidateName(dirName); err != nil {
		t.probs.errorf(t.root.display, 0, "%s", err.Error())
	}
	spec := &tpl.Spec
	spec.Name = name

	var conf, configs fs.DirEntry
	for _, e := range entries {
		switch e.Name() {
		case confFile:
			conf = e
		case configsDir:
			configs = e
		}
	}

	var confData []byte
	confDisplay := t.root.display + "/" + confFile
	if conf == nil {
		t.probs.errorf(confDisplay, 0, "missing: a template directory needs a template.conf")
	} else if n, ok := t.child(t.root, conf); ok {
		if data, ok := t.readRegular(n); ok {
			confData = data
		}
	}
	applyConf(spec, confDisplay, confData, t.probs)

	spec.Scripts, spec.Packages, spec.Files = []Script{}, []Package{}, []File{}
	if configs != nil {
		if n, ok := t.child(t.root, configs); ok && n.isDir() {
			for _, e := range t.list(n) {
				switch e.Name() {
				case scriptsDir:
					if d, ok := t.subdir(n, e); ok {
						spec.Scripts = t.scripts(d)
					}
				case packagesDir:
					if d, ok := t.subdir(n, e); ok {
						spec.Packages = t.packages(d)
					}
				case filesDir:
					if d, ok := t.subdir(n, e); ok {
						spec.Files = t.files(d)
					}
				}
			}
		}
	}
	spec.Sort()
	spec.SHA256 = spec.ComputeDigest()
	return tpl
}

// subdir resolves one of the container-configs directories; a file in its
// place is an error (its content would silently be missing otherwise).
func (t *tree) subdir(parent node, e fs.DirEntry) (node, bool) {
	n, ok := t.child(parent, e)
	if !ok {
		return n, false
	}
	if !n.isDir() {
		t.probs.errorf(n.display, 0, "expected a directory")
		return n, false
	}
	return n, true
}

// readRegular reads a file that must be a regular file.
func (t *tree) readRegular(n node) ([]byte, bool) {
	if !n.isRegular() {
		t.probs.errorf(n.display, 0, "not a regular file")
		return nil, false
	}
	data, _, ok := t.read(n, false)
	return data, ok
}

// entryName returns e's name, or reports it and returns ok=false when it is
// not valid UTF-8 (names become Terraform strings and map keys).
func (t *tree) entryName(dir node, e fs.DirEntry) (string, bool) {
	name := e.Name()
	if !utf8.ValidString(name) {
		t.probs.errorf(dir.display+"/"+strings.ToValidUTF8(name, "\uFFFD"), 0, "file name is not valid UTF-8")
		return name, false
	}
	return name, true
}

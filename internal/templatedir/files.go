package templatedir

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	pathSidecar   = ".path"
	policySidecar = ".policy"
)

// files reads container-configs/files: each content file with its .path
// (target directory, required) and .policy (default "default") sidecars.
func (t *tree) files(dir node) []File {
	type sidecar struct {
		entry fs.DirEntry
		used  bool
	}
	var contents []fs.DirEntry
	sidecars := map[string]*sidecar{}
	for _, e := range t.list(dir) {
		name := e.Name()
		switch {
		case ignoredNames[name]:
		case strings.HasSuffix(name, pathSidecar), strings.HasSuffix(name, policySidecar):
			sidecars[name] = &sidecar{entry: e}
		default:
			contents = append(contents, e)
		}
	}
	sidecarNode := func(parent node, name string) (node, bool, bool) {
		s := sidecars[name]
		if s == nil {
			return node{}, false, true
		}
		n, ok := t.child(parent, s.entry)
		return n, true, ok
	}

	out := []File{}
	for _, e := range contents {
		// Sidecars of a content file with a problem are not orphans.
		for _, suffix := range []string{pathSidecar, policySidecar} {
			if s := sidecars[e.Name()+suffix]; s != nil {
				s.used = true
			}
		}
		name, ok := t.entryName(dir, e)
		if !ok {
			continue
		}
		n, ok := t.child(dir, e)
		if !ok {
			continue
		}
		pathNode, hasPath, pathOK := sidecarNode(dir, name+pathSidecar)
		policyNode, hasPolicy, policyOK := sidecarNode(dir, name+policySidecar)
		if n.isDir() {
			t.probs.warnf(n.display, 0, "ignored: subdirectories of files/ are not deployed (files/ is flat)")
			continue
		}
		if !n.isRegular() {
			t.probs.warnf(n.display, 0, "ignored: not a regular file")
			continue
		}
		f := File{Name: name}
		valid := pathOK && policyOK
		if !hasPath {
			t.probs.errorf(n.display, 0, "missing %s%s: it must hold the absolute target directory", name, pathSidecar)
			valid = false
		} else if pathOK {
			if f.TargetPath, ok = t.sidecarValue(pathNode, checkTargetDir); !ok {
				valid = false
			}
		}
		f.Policy = PolicyDefault
		if !hasPolicy {
			t.probs.warnf(n.display, 0, "missing %s%s: using policy %q (never overwrite an existing target)", name, policySidecar, PolicyDefault)
		} else if policyOK {
			if f.Policy, ok = t.sidecarValue(policyNode, checkPolicy); !ok {
				valid = false
			}
		}
		data, perm, ok := t.read(n, true)
		if !ok || !valid {
			continue
		}
		f.Mode = "0644"
		if perm&0o111 != 0 {
			f.Mode = "0755"
		}
		if utf8.Valid(data) {
			f.Content = string(data)
		} else {
			f.ContentBase64 = base64.StdEncoding.EncodeToString(data)
		}
		f.SHA256 = sha256Hex(data)
		out = append(out, f)
	}

	orphans := make([]string, 0, len(sidecars))
	for name, s := range sidecars {
		if !s.used {
			orphans = append(orphans, name)
		}
	}
	slices.Sort(orphans)
	for _, name := range orphans {
		content := strings.TrimSuffix(strings.TrimSuffix(name, pathSidecar), policySidecar)
		t.probs.warnf(dir.display+"/"+strings.ToValidUTF8(name, "\uFFFD"), 0, "ignored: there is no content file %s for this sidecar", excerpt(content))
	}
	return out
}

// sidecarValue reads a sidecar's one value: its only non-blank line,
// trimmed, which check validates. Blank lines around it are fine; a second
// non-blank line is an error (it used to be dropped silently, so a file
// meant for two directories went to one). Problems point at the sidecar and
// the line in question.
func (t *tree) sidecarValue(n node, check func(string) (string, error)) (string, bool) {
	data, ok := t.readRegular(n)
	if !ok {
		return "", false
	}
	lines := nonBlankLines(string(data), 2)
	if len(lines) == 0 {
		t.probs.errorf(n.display, 0, "empty: expected one line")
		return "", false
	}
	if len(lines) > 1 {
		t.probs.errorf(n.display, lines[1].number, "a second value %s: this file holds exactly one line (the first is on line %d)",
			excerpt(lines[1].text), lines[0].number)
		return "", false
	}
	v, err := check(lines[0].text)
	if err != nil {
		t.probs.errorf(n.display, lines[0].number, "%s", err.Error())
		return "", false
	}
	return v, true
}

// numberedLine is a trimmed line and its 1-based line number.
type numberedLine struct {
	text   string
	number int
}

// nonBlankLines returns the first limit non-blank lines of s, trimmed.
func nonBlankLines(s string, limit int) []numberedLine {
	var out []numberedLine
	for i, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, numberedLine{text: line, number: i + 1})
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// checkTargetDir validates a .path value: absolute, clean, no "..", no NUL;
// trailing slashes are removed.
func checkTargetDir(p string) (string, error) {
	switch {
	case !utf8.ValidString(p):
		return "", errors.New("target directory is not valid UTF-8")
	case strings.IndexByte(p, 0) >= 0:
		return "", errors.New("target directory contains a NUL byte")
	case !strings.HasPrefix(p, "/"):
		return "", errors.New("target directory " + excerpt(p) + " must be an absolute path")
	}
	dir := strings.TrimRight(p, "/")
	if dir == "" {
		dir = "/"
	}
	if slices.Contains(strings.Split(dir, "/"), "..") {
		return "", errors.New("target directory " + excerpt(p) + " must not contain \"..\"")
	}
	if path.Clean(dir) != dir {
		return "", errors.New("target directory " + excerpt(p) + " is not a clean path (no \"//\" or \".\" elements)")
	}
	return dir, nil
}

func checkPolicy(p string) (string, error) {
	if slices.Contains(Policies(), p) {
		return p, nil
	}
	return "", errors.New("unknown policy " + excerpt(p) + " (use replace, default or backup)")
}

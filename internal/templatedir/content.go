package templatedir

import (
	"encoding/base64"
	"errors"
	"fmt"
	"path"
	"strings"
)

// A spec flows in two forms. Discovery and pve_lxc_template keep it
// compact in Terraform state — names, order, policies, modes and digests,
// never the bytes of a script or file — so a fleet of containers built from
// one template does not store the template once per container. The content
// is read only when provisioning needs it, from the template directory the
// spec names (Source), and must match the digests the plan carried.

// ContentDigest is the script's digest: SHA256 when set, else the digest of
// Content (a spec written inline may leave it out).
func (sc Script) ContentDigest() string {
	if sc.SHA256 != "" {
		return strings.ToLower(sc.SHA256)
	}
	return sha256Hex([]byte(sc.Content))
}

// ContentLoaded reports whether Content is the script's content: it matches
// SHA256, or there is no SHA256 to match. A compact script has a digest and
// no content.
func (sc Script) ContentLoaded() bool {
	return sc.SHA256 == "" || strings.EqualFold(sc.SHA256, sha256Hex([]byte(sc.Content)))
}

// Raw is the file's bytes from Content or ContentBase64.
func (f File) Raw() ([]byte, error) {
	if f.ContentBase64 == "" {
		return []byte(f.Content), nil
	}
	if f.Content != "" {
		return nil, errors.New("both content and content_base64 are set; exactly one may be")
	}
	data, err := base64.StdEncoding.DecodeString(f.ContentBase64)
	if err != nil {
		return nil, fmt.Errorf("content_base64 is not valid base64: %w", err)
	}
	return data, nil
}

// ContentDigest is the file's digest: SHA256 when set, else the digest of
// its bytes (of the undecodable text when ContentBase64 is broken, which
// validation reports).
func (f File) ContentDigest() string {
	if f.SHA256 != "" {
		return strings.ToLower(f.SHA256)
	}
	raw, err := f.Raw()
	if err != nil {
		return sha256Hex([]byte(f.ContentBase64))
	}
	return sha256Hex(raw)
}

// ContentLoaded reports whether the file's content matches its SHA256 (or
// there is no SHA256 to match).
func (f File) ContentLoaded() bool {
	if f.SHA256 == "" {
		return true
	}
	raw, err := f.Raw()
	return err == nil && strings.EqualFold(f.SHA256, sha256Hex(raw))
}

// Compact returns the spec without the content of scripts and files that
// have a Source to be read from again: each keeps its digest instead. A
// spec without Source keeps its content (there is nowhere else to get it).
func (s Spec) Compact() Spec {
	if s.Source == "" {
		return s
	}
	out := s
	out.Scripts = make([]Script, len(s.Scripts))
	for i, sc := range s.Scripts {
		sc.SHA256, sc.Content = sc.ContentDigest(), ""
		out.Scripts[i] = sc
	}
	out.Files = make([]File, len(s.Files))
	for i, f := range s.Files {
		f.SHA256, f.Content, f.ContentBase64 = f.ContentDigest(), "", ""
		out.Files[i] = f
	}
	return out
}

// ContentChangedError says that a template file is not what the plan
// expected: it changed (or went away) between plan and apply.
type ContentChangedError struct {
	// File is the file inside the template directory, e.g.
	// "web/container-configs/scripts/10-setup.sh".
	File string
	// Planned is the digest the plan carried; Found the file's digest now
	// ("" when the file is gone or unreadable).
	Planned, Found string
	// Problems are the template's errors when it no longer parses.
	Problems []Problem
}

func (e *ContentChangedError) Error() string {
	switch {
	case len(e.Problems) > 0:
		return fmt.Sprintf("%s is no longer readable as the plan expects (sha256 %s): %s", e.File, e.Planned, e.Problems[0])
	case e.Found == "":
		return fmt.Sprintf("%s is gone since the plan, which expected sha256 %s", e.File, e.Planned)
	}
	return fmt.Sprintf("%s changed since the plan: the plan expected sha256 %s, the file now has %s", e.File, e.Planned, e.Found)
}

// LoadContent returns the spec with the content of every compact script and
// file read from its Source directory (relative to the working directory,
// as the configuration gave it) and checked against its digest. Content
// that is already there is kept. The first file that is missing or differs
// from its digest is a *ContentChangedError, and nothing is returned: a
// provisioning run must never apply anything but what was planned.
func LoadContent(s Spec) (Spec, error) {
	if s.contentLoaded() {
		return s, nil
	}
	if s.Source == "" {
		return s, errors.New("the spec has scripts or files without content and names no template directory (source) to read them from")
	}
	tpl, err := LoadTemplate(s.Source)
	if err != nil {
		return s, fmt.Errorf("reading the content of template %q: %w", s.Name, err)
	}
	scripts := map[string]Script{}
	for _, sc := range tpl.Spec.Scripts {
		scripts[sc.Name] = sc
	}
	files := map[string]File{}
	for _, f := range tpl.Spec.Files {
		files[f.Name] = f
	}
	out := s
	out.Scripts = append([]Script(nil), s.Scripts...)
	out.Files = append([]File(nil), s.Files...)
	for i, sc := range out.Scripts {
		if sc.ContentLoaded() {
			continue
		}
		found, ok := scripts[sc.Name]
		if err := changed(tpl, path.Join(configsDir, scriptsDir, sc.Name), sc.SHA256, found.SHA256, ok); err != nil {
			return s, err
		}
		out.Scripts[i].Content = found.Content
	}
	for i, f := range out.Files {
		if f.ContentLoaded() {
			continue
		}
		found, ok := files[f.Name]
		if err := changed(tpl, path.Join(configsDir, filesDir, f.Name), f.SHA256, found.SHA256, ok); err != nil {
			return s, err
		}
		out.Files[i].Content, out.Files[i].ContentBase64 = found.Content, found.ContentBase64
	}
	return out, nil
}

// changed compares a planned digest with what the directory holds now.
func changed(tpl *Template, file, planned, found string, ok bool) error {
	if ok && strings.EqualFold(planned, found) {
		return nil
	}
	e := &ContentChangedError{File: path.Join(tpl.Name, file), Planned: planned}
	if ok {
		e.Found = found
	} else {
		e.Problems = problemsAbout(tpl.Errors, file)
	}
	return e
}

// problemsAbout picks the errors that concern one file of a template: the
// file itself or its .path and .policy sidecars.
func problemsAbout(errs []Problem, file string) []Problem {
	var out []Problem
	for _, p := range errs {
		if strings.HasSuffix(p.File, file) || strings.HasSuffix(p.File, file+".path") || strings.HasSuffix(p.File, file+".policy") {
			out = append(out, p)
		}
	}
	return out
}

func (s Spec) contentLoaded() bool {
	for _, sc := range s.Scripts {
		if !sc.ContentLoaded() {
			return false
		}
	}
	for _, f := range s.Files {
		if !f.ContentLoaded() {
			return false
		}
	}
	return true
}

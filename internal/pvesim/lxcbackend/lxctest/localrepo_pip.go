package lxctest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// builtWheel is a wheel file in memory.
type builtWheel struct {
	project string // the project's name as given
	file    string
	data    []byte
	sha256  string
}

var (
	// pyNameSeparators are the runs PEP 503 folds into one "-".
	pyNameSeparators = regexp.MustCompile(`[-_.]+`)
	// validPyName is what a distribution name may be (PEP 508).
	validPyName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`)
	// validPyVersion keeps to plain PEP 440 release versions.
	validPyVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
)

// normalizePyName is a project's PEP 503 normalised name.
func normalizePyName(name string) string {
	return strings.ToLower(pyNameSeparators.ReplaceAllString(name, "-"))
}

// buildWheel makes a pure-Python wheel (a zip with the module, METADATA,
// WHEEL and RECORD) for a one-module package.
func buildWheel(p PipPackage) (builtWheel, error) {
	if !validPyName.MatchString(p.Name) || !validPyVersion.MatchString(p.Version) {
		return builtWheel{}, fmt.Errorf("pip package %q %q: need a name like my-pkg and a version like 1.0.0", p.Name, p.Version)
	}
	dist := strings.ReplaceAll(normalizePyName(p.Name), "-", "_")
	module := dist
	source := p.Source
	if source == "" {
		source = fmt.Sprintf("VERSION = %q\n\n\ndef hello():\n    return %q\n", p.Version, "hello from "+p.Name+" "+p.Version)
	}
	info := fmt.Sprintf("%s-%s.dist-info", dist, p.Version)
	files := []struct{ name, content string }{
		{module + "/__init__.py", source},
		{info + "/METADATA", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: test package served by the simulator's local index\n", p.Name, p.Version)},
		{info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: terraform-provider-pve\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{info + "/top_level.txt", module + "\n"},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var record strings.Builder
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			return builtWheel{}, err
		}
		if _, err := w.Write([]byte(f.content)); err != nil {
			return builtWheel{}, err
		}
		sum := sha256.Sum256([]byte(f.content))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.content))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", info)
	w, err := zw.Create(info + "/RECORD")
	if err != nil {
		return builtWheel{}, err
	}
	if _, err := w.Write([]byte(record.String())); err != nil {
		return builtWheel{}, err
	}
	if err := zw.Close(); err != nil {
		return builtWheel{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return builtWheel{
		project: p.Name,
		file:    fmt.Sprintf("%s-%s-py3-none-any.whl", dist, p.Version),
		data:    buf.Bytes(),
		sha256:  hex.EncodeToString(sum[:]),
	}, nil
}

// servePipIndex answers PEP 503's root page and project pages.
func (r *LocalRepo) servePipIndex(w http.ResponseWriter, req *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(req.URL.Path, "/pypi/simple/"), "/")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var page strings.Builder
	page.WriteString("<!DOCTYPE html>\n<html><body>\n")
	if rest == "" {
		names := make([]string, 0, len(r.pip))
		for name := range r.pip {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(&page, "<a href=\"%s/\">%s</a>\n", html.EscapeString(name), html.EscapeString(name))
		}
	} else {
		wheel, ok := r.pip[normalizePyName(rest)]
		if !ok {
			http.NotFound(w, req)
			return
		}
		if rest != normalizePyName(rest) {
			http.Redirect(w, req, "/pypi/simple/"+normalizePyName(rest)+"/", http.StatusMovedPermanently) //nolint:gosec // a path on this server, from the normalised name
			return
		}
		fmt.Fprintf(&page, "<a href=\"../../files/%s#sha256=%s\">%s</a>\n", html.EscapeString(wheel.file), wheel.sha256, html.EscapeString(wheel.file))
	}
	page.WriteString("</body></html>\n")
	_, _ = w.Write([]byte(page.String()))
}

// servePipFile serves a wheel.
func (r *LocalRepo) servePipFile(w http.ResponseWriter, req *http.Request) {
	file := strings.TrimPrefix(req.URL.Path, "/pypi/files/")
	for _, wheel := range r.pip {
		if wheel.file == file {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(wheel.data)
			return
		}
	}
	http.NotFound(w, req)
}

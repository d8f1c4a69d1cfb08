package lxctest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1" //nolint:gosec // npm's packument carries a SHA-1 shasum beside the SHA-512 integrity
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// builtTarball is an npm package tarball in memory.
type builtTarball struct {
	pkg       NpmPackage
	file      string
	data      []byte
	shasum    string
	integrity string
}

var (
	// validNpmName is an npm package name, scoped or not.
	validNpmName = regexp.MustCompile(`^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$`)
	// validNpmVersion keeps to plain semver versions.
	validNpmVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// npmTarballName is a package version's tarball file name.
func npmTarballName(name, version string) string {
	return strings.ReplaceAll(strings.TrimPrefix(name, "@"), "/", "-") + "-" + version + ".tgz"
}

// buildNpmTarball makes the package's .tgz (package/package.json and
// package/index.js), as `npm pack` would.
func buildNpmTarball(p NpmPackage) (builtTarball, error) {
	if !validNpmName.MatchString(p.Name) || !validNpmVersion.MatchString(p.Version) {
		return builtTarball{}, fmt.Errorf("npm package %q %q: need a name like my-pkg and a version like 1.0.0", p.Name, p.Version)
	}
	main := p.Main
	if main == "" {
		main = fmt.Sprintf("module.exports = { version: %q, hello: () => %q };\n", p.Version, "hello from "+p.Name+" "+p.Version)
	}
	manifest, err := json.MarshalIndent(map[string]string{
		"name": p.Name, "version": p.Version, "main": "index.js",
		"description": "test package served by the simulator's local registry", "license": "MIT",
	}, "", "  ")
	if err != nil {
		return builtTarball{}, err
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	modTime := time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC) // npm pack's fixed mtime
	for _, f := range []struct{ name, content string }{{"package/package.json", string(manifest) + "\n"}, {"package/index.js", main}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.content)), ModTime: modTime, Typeflag: tar.TypeReg}); err != nil {
			return builtTarball{}, err
		}
		if _, err := tw.Write([]byte(f.content)); err != nil {
			return builtTarball{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return builtTarball{}, err
	}
	if err := gz.Close(); err != nil {
		return builtTarball{}, err
	}
	sha := sha1.Sum(buf.Bytes()) //nolint:gosec // see the import
	sha5 := sha512.Sum512(buf.Bytes())
	return builtTarball{
		pkg:       p,
		file:      npmTarballName(p.Name, p.Version),
		data:      buf.Bytes(),
		shasum:    hex.EncodeToString(sha[:]),
		integrity: "sha512-" + base64.StdEncoding.EncodeToString(sha5[:]),
	}, nil
}

// serveNpmPackument answers a registry's package document for a package.
func (r *LocalRepo) serveNpmPackument(w http.ResponseWriter, req *http.Request) {
	name := strings.TrimPrefix(req.URL.Path, "/npm/")
	t, ok := r.npm[name]
	if !ok {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	version := map[string]any{
		"name": t.pkg.Name, "version": t.pkg.Version, "main": "index.js",
		"dist": map[string]string{"tarball": r.NpmTarballURL(t.pkg.Name, t.pkg.Version), "shasum": t.shasum, "integrity": t.integrity},
	}
	doc := map[string]any{
		"name":      t.pkg.Name,
		"dist-tags": map[string]string{"latest": t.pkg.Version},
		"versions":  map[string]any{t.pkg.Version: version},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// serveNpmTarball serves a package tarball.
func (r *LocalRepo) serveNpmTarball(w http.ResponseWriter, req *http.Request) {
	file := strings.TrimPrefix(req.URL.Path, "/npm-tarballs/")
	for _, t := range r.npm {
		if t.file == file {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(t.data)
			return
		}
	}
	http.NotFound(w, req)
}

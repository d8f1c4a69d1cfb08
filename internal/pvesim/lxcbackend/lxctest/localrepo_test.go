package lxctest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestBuildWheel(t *testing.T) {
	w, err := buildWheel(PipPackage{Name: "My.Demo_pkg", Version: "2.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if w.file != "my_demo_pkg-2.0.1-py3-none-any.whl" {
		t.Errorf("file name %s", w.file)
	}
	zr, err := zip.NewReader(bytes.NewReader(w.data), int64(len(w.data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(data)
	}
	info := "my_demo_pkg-2.0.1.dist-info/"
	if !strings.Contains(files[info+"METADATA"], "Name: My.Demo_pkg\nVersion: 2.0.1\n") {
		t.Errorf("METADATA:\n%s", files[info+"METADATA"])
	}
	if !strings.Contains(files[info+"WHEEL"], "Tag: py3-none-any\n") || !strings.Contains(files[info+"WHEEL"], "Root-Is-Purelib: true\n") {
		t.Errorf("WHEEL:\n%s", files[info+"WHEEL"])
	}
	if !strings.Contains(files["my_demo_pkg/__init__.py"], `VERSION = "2.0.1"`) {
		t.Errorf("__init__.py:\n%s", files["my_demo_pkg/__init__.py"])
	}
	// Every file but RECORD is listed in RECORD with its real hash and size.
	record := files[info+"RECORD"]
	for name, content := range files {
		if name == info+"RECORD" {
			continue
		}
		sum := sha256.Sum256([]byte(content))
		want := name + ",sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]) + "," + strconv.Itoa(len(content))
		if !strings.Contains(record, want+"\n") {
			t.Errorf("RECORD lacks %q:\n%s", want, record)
		}
	}
	if !strings.HasSuffix(record, info+"RECORD,,\n") {
		t.Errorf("RECORD does not list itself last:\n%s", record)
	}
	sum := sha256.Sum256(w.data)
	if w.sha256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 %s does not match the wheel", w.sha256)
	}
}

func TestBuildWheelRejectsBadNames(t *testing.T) {
	for _, p := range []PipPackage{{Name: "", Version: "1.0"}, {Name: "a b", Version: "1.0"}, {Name: "ok", Version: "1.0; rm -rf /"}, {Name: "-x", Version: "1"}} {
		if _, err := buildWheel(p); err == nil {
			t.Errorf("%+v was accepted", p)
		}
	}
}

func TestBuildNpmTarball(t *testing.T) {
	tb, err := buildNpmTarball(NpmPackage{Name: "@scope/tool", Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if tb.file != "scope-tool-1.2.3.tgz" {
		t.Errorf("file %s", tb.file)
	}
	sum := sha512.Sum512(tb.data)
	if tb.integrity != "sha512-"+base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("integrity %s does not match the tarball", tb.integrity)
	}
	gz, err := gzip.NewReader(bytes.NewReader(tb.data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = string(data)
	}
	var manifest map[string]string
	if err := json.Unmarshal([]byte(files["package/package.json"]), &manifest); err != nil {
		t.Fatalf("package.json: %v\n%s", err, files["package/package.json"])
	}
	if manifest["name"] != "@scope/tool" || manifest["version"] != "1.2.3" || manifest["main"] != "index.js" {
		t.Errorf("package.json %v", manifest)
	}
	if !strings.Contains(files["package/index.js"], `version: "1.2.3"`) {
		t.Errorf("index.js:\n%s", files["package/index.js"])
	}
	for _, p := range []NpmPackage{{Name: "Upper", Version: "1.0.0"}, {Name: "ok", Version: "1.0"}, {Name: "../x", Version: "1.0.0"}} {
		if _, err := buildNpmTarball(p); err == nil {
			t.Errorf("%+v was accepted", p)
		}
	}
}

// TestLocalRepoServes checks the three package sources over HTTP the way
// apt, pip and npm ask for them.
func TestLocalRepoServes(t *testing.T) {
	dir := t.TempDir()
	repo, err := NewLocalRepo(context.Background(), LocalRepoConfig{
		Listen:      netip.MustParseAddr("127.0.0.1"),
		Dir:         dir,
		PipPackages: []PipPackage{{Name: "Demo_Pkg", Version: "1.0.0"}},
		NpmPackages: []NpmPackage{{Name: "demo", Version: "0.2.0"}, {Name: "@s/t", Version: "1.0.0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = repo.Close() }()

	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, repo.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}

	if code, body := get("/pypi/simple/"); code != 200 || !strings.Contains(body, `<a href="demo-pkg/">demo-pkg</a>`) {
		t.Errorf("simple index: %d\n%s", code, body)
	}
	code, body := get("/pypi/simple/demo-pkg/")
	if code != 200 || !strings.Contains(body, `href="../../files/demo_pkg-1.0.0-py3-none-any.whl#sha256=`) {
		t.Errorf("project page: %d\n%s", code, body)
	}
	if code, _ := get("/pypi/simple/Demo_Pkg/"); code != http.StatusMovedPermanently {
		t.Errorf("a non-normalised project name answered %d, want a redirect", code)
	}
	if code, body := get("/pypi/files/demo_pkg-1.0.0-py3-none-any.whl"); code != 200 || !strings.HasPrefix(body, "PK") {
		t.Errorf("wheel: %d", code)
	}
	if code, _ := get("/pypi/simple/other/"); code != 404 {
		t.Errorf("an unknown project answered %d", code)
	}

	code, body = get("/npm/@s%2ft")
	var doc struct {
		Name     string            `json:"name"`
		DistTags map[string]string `json:"dist-tags"`
		Versions map[string]struct {
			Dist struct {
				Tarball   string `json:"tarball"`
				Integrity string `json:"integrity"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil {
		t.Fatalf("packument: %d, %v\n%s", code, err, body)
	}
	if doc.Name != "@s/t" || doc.DistTags["latest"] != "1.0.0" || doc.Versions["1.0.0"].Dist.Tarball != repo.NpmTarballURL("@s/t", "1.0.0") {
		t.Errorf("packument %+v", doc)
	}
	if code, body := get(strings.TrimPrefix(repo.NpmTarballURL("demo", "0.2.0"), repo.URL())); code != 200 || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("tarball: %d", code)
	}
	if code, _ := get("/npm/missing"); code != 404 {
		t.Errorf("an unknown npm package answered %d", code)
	}

	if code, body := get("/apt/Release"); code != 200 || !strings.Contains(body, "SHA256:\n") {
		t.Errorf("Release: %d\n%s", code, body)
	}
	if got := repo.AptSourcesLine(); got != "deb [trusted=yes] "+repo.URL()+"/apt ./" {
		t.Errorf("sources line %q", got)
	}
	if conf := repo.PipConf(); !strings.Contains(conf, "index-url = "+repo.URL()+"/pypi/simple/\n") || !strings.Contains(conf, "trusted-host = 127.0.0.1\n") {
		t.Errorf("pip.conf:\n%s", conf)
	}
	if rc := repo.NpmRC(); !strings.Contains(rc, "registry="+repo.URL()+"/npm/\n") {
		t.Errorf(".npmrc:\n%s", rc)
	}
	files := repo.GuestFiles()
	if files["/etc/apt/sources.list"] != "" || files["/etc/apt/sources.list.d/pvesim-local.list"] != repo.AptSourcesLine()+"\n" || files["/etc/pip.conf"] != repo.PipConf() || files["/etc/npmrc"] != repo.NpmRC() {
		t.Errorf("guest files %v", files)
	}
	if served := strings.Join(repo.Served(), "\n"); !strings.Contains(served, "GET /npm/missing 404") || !strings.Contains(served, "GET /apt/Release 200") {
		t.Errorf("served:\n%s", served)
	}
}

// TestAptIndex indexes a .deb built on the spot, as apt-get download would
// have fetched it.
func TestAptIndex(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skipf("dpkg-deb is not installed: %v", err)
	}
	pkg := filepath.Join(t.TempDir(), "pkg")
	if err := os.MkdirAll(filepath.Join(pkg, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: pvesim-test\nVersion: 1.0\nArchitecture: all\nMaintainer: nobody <nobody@invalid>\nDescription: test\n multi-line description\n"
	if err := os.WriteFile(filepath.Join(pkg, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	repoDir := t.TempDir()
	deb := filepath.Join(repoDir, "pvesim-test_1.0_all.deb")
	if out, err := exec.Command("dpkg-deb", "--build", "--root-owner-group", pkg, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	if err := buildAptRepo(context.Background(), repoDir, nil); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(repoDir, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	sums, size, err := fileSums(deb)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Package: pvesim-test\n", " multi-line description\n", "Filename: pvesim-test_1.0_all.deb\n", "Size: " + strconv.Itoa(int(size)) + "\n", "SHA256: " + sums[1] + "\n"} {
		if !strings.Contains(string(index), want) {
			t.Errorf("Packages lacks %q:\n%s", want, index)
		}
	}
	release, err := os.ReadFile(filepath.Join(repoDir, "Release"))
	if err != nil {
		t.Fatal(err)
	}
	indexSums, indexSize, err := fileSums(filepath.Join(repoDir, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	if want := " " + indexSums[1] + " " + strconv.Itoa(int(indexSize)) + " Packages\n"; !strings.Contains(string(release), want) {
		t.Errorf("Release lacks %q:\n%s", want, release)
	}
}

// TestAptFilesWithEpochAndPlus fetches a package the way apt does: its
// Filename from the index, quoted, below the repository URL, following
// redirects. apt-get download names files with an epoch "name_1%3a…"
// and versions of Debian's updates carry a '+'; a "./" prefix in Filename
// made Go's ServeMux redirect to a doubly escaped path that answered 404.
func TestAptFilesWithEpochAndPlus(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skipf("dpkg-deb is not installed: %v", err)
	}
	pkg := filepath.Join(t.TempDir(), "pkg")
	if err := os.MkdirAll(filepath.Join(pkg, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: pvesim-test\nVersion: 1:1.0+deb12u1\nArchitecture: all\nMaintainer: nobody <nobody@invalid>\nDescription: test\n"
	if err := os.WriteFile(filepath.Join(pkg, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "apt"), 0o755); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(dir, "apt", "pvesim-test_1%3a1.0+deb12u1_all.deb")
	if out, err := exec.Command("dpkg-deb", "--build", "--root-owner-group", pkg, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
	want, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := NewLocalRepo(context.Background(), LocalRepoConfig{Listen: netip.MustParseAddr("127.0.0.1"), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = repo.Close() }()

	index, err := os.ReadFile(filepath.Join(dir, "apt", "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	var filename string
	for _, line := range strings.Split(string(index), "\n") {
		if f, ok := strings.CutPrefix(line, "Filename: "); ok {
			filename = f
		}
	}
	// apt quotes everything but unreserved characters and '/'.
	var quoted strings.Builder
	for _, c := range []byte(filename) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", c) >= 0 {
			quoted.WriteByte(c)
		} else {
			quoted.WriteString("%" + strings.ToLower(hex.EncodeToString([]byte{c})))
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, repo.URL()+"/apt/"+quoted.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Errorf("GET %s (Filename %q): %s, %d bytes; served:\n%s", req.URL, filename, resp.Status, len(body), strings.Join(repo.Served(), "\n"))
	}
}

package templatedir

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func sampleSpec() Spec {
	return Spec{
		Name: "web", AppName: "Web", Description: "d", Tags: []string{"a", "b"}, OSTemplate: "debian-12-standard",
		ConfigPath: "cp",
		Defaults: Defaults{Cores: 1, Memory: 512, Swap: 512, DiskSize: 8, Storage: "local", Bridge: "vmbr0",
			Unprivileged: true, Features: Features{Nesting: true}},
		Scripts:  []Script{{Name: "10-a.sh", Order: 10, Content: "echo\n", SHA256: "x", Enabled: true}},
		Packages: []Package{{Bucket: "base", Manager: "apt", Spec: "curl", Name: "curl"}},
		Files:    []File{{Name: "f", TargetPath: "/etc", Policy: "replace", Mode: "0644", Content: "c", SHA256: "y"}},
	}
}

// TestDigestEncoding pins the documented encoding by re-encoding a spec
// by hand, following ComputeDigest's doc comment.
func TestDigestEncoding(t *testing.T) {
	var b []byte
	str := func(s string) { b = append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	i64 := func(v int64) { b = binary.BigEndian.AppendUint64(b, uint64(v)) }
	boolean := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	b = append(b, "lxctm.templatedir.Spec/v2\x00"...)
	str("web")
	str("Web")
	str("d")
	b = binary.AppendUvarint(b, 2)
	str("a")
	str("b")
	str("debian-12-standard")
	str("cp")
	i64(1)
	i64(512)
	i64(512)
	i64(8)
	str("local")
	str("vmbr0")
	boolean(true)
	boolean(true)
	boolean(false)
	boolean(false)
	b = binary.AppendUvarint(b, 1)
	str("10-a.sh")
	i64(10)
	str("x") // the script's SHA256 stands for its content
	boolean(true)
	b = binary.AppendUvarint(b, 1)
	for _, s := range []string{"base", "apt", "curl", "curl", "", "", ""} {
		str(s)
	}
	i64(0)
	b = binary.AppendUvarint(b, 1)
	for _, s := range []string{"f", "/etc", "replace", "0644", "y"} {
		str(s)
	}
	sum := sha256.Sum256(b)

	s := sampleSpec()
	s.SHA256, s.Source = "ignored", "also/ignored"
	if got, want := s.ComputeDigest(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
}

// TestDigestKnowsEveryField fails when a field is added to the spec types
// without being considered for ComputeDigest (and its version string).
// Counted: every field; Spec.Source, Spec.Image and the SHA256 fields are
// deliberately left out of the digest, and content fields enter through
// ContentDigest.
func TestDigestKnowsEveryField(t *testing.T) {
	want := map[reflect.Type]int{
		reflect.TypeFor[Spec](): 13, reflect.TypeFor[Defaults](): 8, reflect.TypeFor[Features](): 3,
		reflect.TypeFor[Script](): 5, reflect.TypeFor[Package](): 8, reflect.TypeFor[File](): 7,
	}
	for typ, n := range want {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields; ComputeDigest knows %d: update it, its doc and digestDomain", typ, typ.NumField(), n)
		}
	}
}

// A compact spec, the same spec with its content, and the same checkout
// somewhere else all have one digest.
func TestDigestOfCompactAndLoadedSpecs(t *testing.T) {
	loaded := sampleSpec()
	loaded.Scripts[0].SHA256 = sha256Hex([]byte("echo\n"))
	loaded.Files[0].SHA256 = sha256Hex([]byte("c"))
	loaded.Source = "templates/web"
	compact := loaded.Compact()
	if compact.Scripts[0].Content != "" || compact.Files[0].Content != "" || compact.Scripts[0].ContentLoaded() {
		t.Fatalf("Compact kept content: %+v", compact)
	}
	moved := compact
	moved.Source = "/elsewhere/templates/web"
	inline := loaded
	inline.Scripts[0].SHA256, inline.Files[0].SHA256, inline.Source = "", "", ""
	for name, s := range map[string]Spec{"compact": compact, "moved": moved, "inline without digests": inline} {
		if s.ComputeDigest() != loaded.ComputeDigest() {
			t.Errorf("%s spec digests differently from the loaded one", name)
		}
	}
	if inline.Compact().Scripts[0].Content == "" {
		t.Error("a spec without source must keep its content: there is nowhere else to read it")
	}
}

func TestDigestIgnoresItselfAndNilSlices(t *testing.T) {
	a := sampleSpec()
	b := sampleSpec()
	b.SHA256 = "something else"
	if a.ComputeDigest() != b.ComputeDigest() {
		t.Error("the SHA256 field changes the digest")
	}
	empty := Spec{Name: "x"}
	emptyLists := Spec{Name: "x", Tags: []string{}, Scripts: []Script{}, Packages: []Package{}, Files: []File{}}
	if empty.ComputeDigest() != emptyLists.ComputeDigest() {
		t.Error("nil and empty lists digest differently")
	}
}

// TestDigestCoversEverything: changing any field changes the digest.
func TestDigestCoversEverything(t *testing.T) {
	sample := sampleSpec()
	base := sample.ComputeDigest()
	mutations := map[string]func(*Spec){
		"name": func(s *Spec) { s.Name = "x" }, "app_name": func(s *Spec) { s.AppName = "x" },
		"description": func(s *Spec) { s.Description = "x" }, "tags": func(s *Spec) { s.Tags = []string{"a"} },
		"os_template": func(s *Spec) { s.OSTemplate = "x" }, "config_path": func(s *Spec) { s.ConfigPath = "x" },
		"cores": func(s *Spec) { s.Defaults.Cores = 2 }, "memory": func(s *Spec) { s.Defaults.Memory = 1 },
		"swap": func(s *Spec) { s.Defaults.Swap = 1 }, "disk_size": func(s *Spec) { s.Defaults.DiskSize = 1 },
		"storage": func(s *Spec) { s.Defaults.Storage = "x" }, "bridge": func(s *Spec) { s.Defaults.Bridge = "x" },
		"unprivileged": func(s *Spec) { s.Defaults.Unprivileged = false },
		"nesting":      func(s *Spec) { s.Defaults.Features.Nesting = false },
		"keyctl":       func(s *Spec) { s.Defaults.Features.Keyctl = true },
		"fuse":         func(s *Spec) { s.Defaults.Features.Fuse = true },
		"script name":  func(s *Spec) { s.Scripts[0].Name = "x" }, "script order": func(s *Spec) { s.Scripts[0].Order = 1 },
		"script content": func(s *Spec) { s.Scripts[0].Content, s.Scripts[0].SHA256 = "x", "" },
		"script sha":     func(s *Spec) { s.Scripts[0].SHA256 = "z" },
		"script enabled": func(s *Spec) { s.Scripts[0].Enabled = false },
		"bucket":         func(s *Spec) { s.Packages[0].Bucket = "x" }, "manager": func(s *Spec) { s.Packages[0].Manager = "x" },
		"spec": func(s *Spec) { s.Packages[0].Spec = "x" }, "pkg name": func(s *Spec) { s.Packages[0].Name = "x" },
		"version": func(s *Spec) { s.Packages[0].Version = "x" }, "check": func(s *Spec) { s.Packages[0].Check = "x" },
		"install": func(s *Spec) { s.Packages[0].Install = "x" }, "timeout": func(s *Spec) { s.Packages[0].Timeout = 1 },
		"file name": func(s *Spec) { s.Files[0].Name = "x" }, "target_path": func(s *Spec) { s.Files[0].TargetPath = "/x" },
		"policy": func(s *Spec) { s.Files[0].Policy = "x" }, "mode": func(s *Spec) { s.Files[0].Mode = "0755" },
		"content":        func(s *Spec) { s.Files[0].Content, s.Files[0].SHA256 = "x", "" },
		"content_base64": func(s *Spec) { s.Files[0].Content, s.Files[0].ContentBase64, s.Files[0].SHA256 = "", "eA==", "" },
		"file sha":       func(s *Spec) { s.Files[0].SHA256 = "z" },
		"order of packages": func(s *Spec) {
			s.Packages = append(s.Packages, Package{Bucket: "base", Manager: "apt", Spec: "git"})
			s.Packages[0], s.Packages[1] = s.Packages[1], s.Packages[0]
		},
	}
	for name, mutate := range mutations {
		s := sampleSpec()
		mutate(&s)
		if s.ComputeDigest() == base {
			t.Errorf("changing %s does not change the digest", name)
		}
	}
}

func TestSort(t *testing.T) {
	s := Spec{
		Scripts: []Script{{Name: "b.sh", Order: UnnumberedScriptOrder}, {Name: "20-x.sh", Order: 20}, {Name: "a.sh", Order: UnnumberedScriptOrder}, {Name: "3-y.sh", Order: 3}},
		Packages: []Package{
			{Bucket: "web", Spec: "nginx"}, {Bucket: "base", Spec: "git"}, {Bucket: "base", Spec: "curl"},
		},
		Files: []File{{Name: "b", TargetPath: "/2"}, {Name: "a", TargetPath: "/9"}, {Name: "b", TargetPath: "/1"}},
	}
	s.Sort()
	var got []string
	for _, x := range s.Scripts {
		got = append(got, x.Name)
	}
	for _, x := range s.Packages {
		got = append(got, x.Bucket+":"+x.Spec)
	}
	for _, x := range s.Files {
		got = append(got, x.Target())
	}
	want := []string{"3-y.sh", "20-x.sh", "a.sh", "b.sh", "base:git", "base:curl", "web:nginx", "/9/a", "/1/b", "/2/b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestDeterministic: two discoveries of the same tree are identical, and a
// one-byte change anywhere changes that template's digest only.
func TestDeterministic(t *testing.T) {
	root := t.TempDir()
	generateTemplates(t, root, 20)
	first := discoverAll(t, root)
	second := discoverAll(t, root)
	if !reflect.DeepEqual(first, second) {
		t.Fatal("two discoveries differ")
	}
	for _, tpl := range first.Templates {
		if !tpl.Valid() || len(tpl.Warnings) != 0 {
			t.Fatalf("%s: %s %s", tpl.Name, problemList(tpl.Errors), problemList(tpl.Warnings))
		}
		if tpl.Spec.SHA256 != tpl.Spec.ComputeDigest() || len(tpl.Spec.SHA256) != 64 {
			t.Fatalf("%s: digest %q", tpl.Name, tpl.Spec.SHA256)
		}
	}
	for _, rel := range []string{
		"t007/template.conf",
		"t007/container-configs/scripts/05-step.sh",
		"t007/container-configs/packages/b1.apt",
		"t007/container-configs/files/f3.conf",
		"t007/container-configs/files/f3.conf.policy",
	} {
		p := filepath.Join(root, filepath.FromSlash(rel))
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		changed := append([]byte{}, orig...)
		changed[len(changed)-2]++ // one byte, keeping the trailing newline
		if rel == "t007/container-configs/files/f3.conf.policy" {
			changed = []byte("backup\n")
		}
		if err := os.WriteFile(p, changed, 0o644); err != nil {
			t.Fatal(err)
		}
		after := discoverAll(t, root)
		for i, tpl := range after.Templates {
			same := tpl.Spec.SHA256 == first.Templates[i].Spec.SHA256
			if tpl.Name == "t007" && (same || !tpl.Valid()) {
				t.Errorf("%s: changing one byte kept the digest (valid=%v %s)", rel, tpl.Valid(), problemList(tpl.Errors))
			}
			if tpl.Name != "t007" && !same {
				t.Errorf("%s: changed the digest of %s", rel, tpl.Name)
			}
		}
		if err := os.WriteFile(p, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestProblemError(t *testing.T) {
	if got := (Problem{File: "web/template.conf", Line: 3, Message: "bad"}).Error(); got != "web/template.conf:3: bad" {
		t.Error(got)
	}
	if got := (Problem{File: "web/container-configs/files/x", Message: "missing"}).Error(); got != "web/container-configs/files/x: missing" {
		t.Error(got)
	}
}

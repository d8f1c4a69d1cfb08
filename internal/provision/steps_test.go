package provision

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// baseSpec has every kind of step, packages of two managers sharing a
// bucket name, and a disabled script.
func baseSpec(t *testing.T) templatedir.Spec {
	t.Helper()
	return templatedir.Spec{
		Name: "base",
		Packages: []templatedir.Package{
			pkg(t, "apt", "base", "curl"),
			pkg(t, "apt", "base", "nodejs=18.*"),
			pkg(t, "npm", "base", "typescript@5.4.5"),
			pkg(t, "pip", "py", "requests>=2.28"),
			custom("tools", "starship", "command -v starship", "curl -fsSL https://x/install.sh | sh", 600),
		},
		Scripts: []templatedir.Script{
			script("10-user.sh", "useradd dev\n"),
			script("20-off.sh", "echo disabled\n"),
		},
		Files: []templatedir.File{
			file(".bashrc", "/home/dev", templatedir.PolicyDefault, "0644", "PS1=x\n"),
			file("app.conf", "/etc/app", templatedir.PolicyReplace, "0640", "a=1\n"),
		},
	}
}

func TestDesiredKeys(t *testing.T) {
	spec := baseSpec(t)
	spec.Scripts[1].Enabled = false
	got := slices.Sorted(maps.Keys(Desired(spec)))
	want := []string{
		"file:/etc/app/app.conf",
		"file:/home/dev/.bashrc",
		"package:apt:base",
		"package:custom:tools",
		"package:npm:base",
		"package:pip:py",
		"script:10-user.sh",
	}
	if !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	d := Desired(spec)
	if d["script:10-user.sh"] != sha256hex("useradd dev\n") {
		t.Errorf("a script's digest is the sha256 of its content, got %s", d["script:10-user.sh"])
	}
	if d["file:/etc/app/app.conf"] != FileDigest(sha256hex("a=1\n"), "replace", "0640") {
		t.Errorf("file digest %s", d["file:/etc/app/app.conf"])
	}
}

// TestDesiredStableAndSensitive changes one thing at a time: what changes
// what is applied changes exactly that step's digest; what does not
// (derived fields, order across buckets, metadata) changes nothing.
func TestDesiredStableAndSensitive(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*templatedir.Spec)
		changed []string // keys whose digest must change; nil: none
	}{
		{"nothing", func(*templatedir.Spec) {}, nil},
		{"description and tags", func(s *templatedir.Spec) { s.Description, s.Tags = "other", []string{"x"} }, nil},
		{"package order across buckets", func(s *templatedir.Spec) {
			s.Packages = []templatedir.Package{s.Packages[4], s.Packages[3], s.Packages[0], s.Packages[2], s.Packages[1]}
		}, nil},
		{"derived package name and version", func(s *templatedir.Spec) { s.Packages[1].Name, s.Packages[1].Version = "x", "y" }, nil},
		{"recorded script digest", func(s *templatedir.Spec) { s.Scripts[0].SHA256 = "" }, nil},
		{"script order number", func(s *templatedir.Spec) { s.Scripts[0].Order = 5 }, nil},
		{"recorded file digest", func(s *templatedir.Spec) { s.Files[1].SHA256 = "" }, nil},
		{"mode spelled without a leading zero", func(s *templatedir.Spec) { s.Files[1].Mode = "640" }, nil},
		{"same bytes as base64", func(s *templatedir.Spec) {
			s.Files[1].ContentBase64, s.Files[1].Content = base64.StdEncoding.EncodeToString([]byte("a=1\n")), ""
		}, nil},
		{"apt pin", func(s *templatedir.Spec) { s.Packages[1].Spec = "nodejs=20.*" }, []string{"package:apt:base"}},
		{"apt package added", func(s *templatedir.Spec) {
			s.Packages = append(s.Packages, templatedir.Package{Bucket: "base", Manager: "apt", Spec: "git"})
		}, []string{"package:apt:base"}},
		{"apt rows reordered in the bucket", func(s *templatedir.Spec) { s.Packages[0], s.Packages[1] = s.Packages[1], s.Packages[0] }, []string{"package:apt:base"}},
		{"npm version", func(s *templatedir.Spec) { s.Packages[2].Spec = "typescript@5.5.0" }, []string{"package:npm:base"}},
		{"custom check", func(s *templatedir.Spec) { s.Packages[4].Check = "test -x /usr/local/bin/starship" }, []string{"package:custom:tools"}},
		{"custom install", func(s *templatedir.Spec) { s.Packages[4].Install = "true" }, []string{"package:custom:tools"}},
		{"custom timeout", func(s *templatedir.Spec) { s.Packages[4].Timeout = 0 }, []string{"package:custom:tools"}},
		{"script content", func(s *templatedir.Spec) { s.Scripts[0].Content += "#\n" }, []string{"script:10-user.sh"}},
		{"file content", func(s *templatedir.Spec) { s.Files[1].Content = "a=2\n" }, []string{"file:/etc/app/app.conf"}},
		{"file policy", func(s *templatedir.Spec) { s.Files[1].Policy = templatedir.PolicyBackup }, []string{"file:/etc/app/app.conf"}},
		{"file mode", func(s *templatedir.Spec) { s.Files[1].Mode = "0600" }, []string{"file:/etc/app/app.conf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := Desired(baseSpec(t))
			spec := baseSpec(t)
			tc.mutate(&spec)
			after := Desired(spec)
			if !slices.Equal(slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after))) {
				t.Fatalf("keys changed: %v → %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
			}
			var changed []string
			for k := range before {
				if before[k] != after[k] {
					changed = append(changed, k)
				}
			}
			slices.Sort(changed)
			if !slices.Equal(changed, tc.changed) {
				t.Errorf("changed digests %v, want %v", changed, tc.changed)
			}
		})
	}
}

func TestDesiredDigestsAreLengthPrefixed(t *testing.T) {
	a := Desired(templatedir.Spec{Packages: []templatedir.Package{custom("b", "x", "ab", "c", 1)}})
	b := Desired(templatedir.Spec{Packages: []templatedir.Package{custom("b", "x", "a", "bc", 1)}})
	if a["package:custom:b"] == b["package:custom:b"] {
		t.Error("moving a character from check to install must change the digest")
	}
}

func TestNormalizeMode(t *testing.T) {
	for in, want := range map[string]string{"0644": "0644", "644": "0644", "0o755": "0755", "4755": "4755", "": "0644", "0": "0000"} {
		if got, err := normalizeMode(in); err != nil || got != want {
			t.Errorf("normalizeMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"rw-r--r--", "0999", "17777", "-1"} {
		if _, err := normalizeMode(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("normalizeMode(%q) error %v", bad, err)
		}
	}
}

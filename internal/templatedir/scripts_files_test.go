package templatedir

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestScriptOrder: numeric prefixes compare as numbers whatever their
// width, ties by name, unprefixed scripts last by name with a warning; only
// *.sh files count.
func TestScriptOrder(t *testing.T) {
	names := []string{
		"100-late.sh", "20-mid.sh", "2-early.sh", "02_also-two.sh", "010-ten.sh", "99_ninety-nine.sh",
		"setup.sh", "Zeta.sh", "1x.sh", ".hidden.sh",
		"README.md", "notes.txt", "container.sh", ".gitkeep", "30-old.sh.bak",
	}
	files := map[string]string{}
	for _, n := range names {
		files["container-configs/scripts/"+n] = "echo " + n + "\n"
	}
	tpl := parseTemplateFiles(t, files)

	var got []string
	var orders []int64
	for _, s := range tpl.Spec.Scripts {
		got = append(got, s.Name)
		orders = append(orders, s.Order)
		if s.Content != "echo "+s.Name+"\n" || !s.Enabled || s.SHA256 != sha256Hex([]byte(s.Content)) {
			t.Errorf("script %s: %+v", s.Name, s)
		}
	}
	want := []string{"02_also-two.sh", "2-early.sh", "010-ten.sh", "20-mid.sh", "99_ninety-nine.sh", "100-late.sh", ".hidden.sh", "1x.sh", "Zeta.sh", "setup.sh"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order:\n got  %q\n want %q", got, want)
	}
	u := UnnumberedScriptOrder
	if wantOrders := []int64{2, 2, 10, 20, 99, 100, u, u, u, u}; !reflect.DeepEqual(orders, wantOrders) {
		t.Errorf("orders: got %v, want %v", orders, wantOrders)
	}
	expectProblems(t, "errors", tpl.Errors, nil)
	expectProblems(t, "warnings", tpl.Warnings, []string{
		"t/container-configs/scripts/.hidden.sh:0: script has no numeric prefix",
		"t/container-configs/scripts/1x.sh:0: script has no numeric prefix",
		"t/container-configs/scripts/Zeta.sh:0: script has no numeric prefix",
		"t/container-configs/scripts/setup.sh:0: script has no numeric prefix",
	})
}

func TestScriptProblems(t *testing.T) {
	tpl := parseTemplateFiles(t, map[string]string{
		"container-configs/scripts/10-ok.sh":                            "echo ok\n",
		"container-configs/scripts/20-latin1.sh":                        "echo ok\necho caf\xe9\n",
		"container-configs/scripts/30-dir.sh/inner":                     "x",
		"container-configs/scripts/99999999999999999999-huge-prefix.sh": "echo\n",
	})
	if len(tpl.Spec.Scripts) != 1 || tpl.Spec.Scripts[0].Name != "10-ok.sh" || tpl.Valid() {
		t.Fatalf("scripts %+v valid=%v", tpl.Spec.Scripts, tpl.Valid())
	}
	expectProblems(t, "errors", tpl.Errors, []string{
		"t/container-configs/scripts/20-latin1.sh:2: script is not valid UTF-8",
		"t/container-configs/scripts/99999999999999999999-huge-prefix.sh:0: numeric prefix 99999999999999999999 is too large",
	})
	expectProblems(t, "warnings", tpl.Warnings, []string{"t/container-configs/scripts/30-dir.sh:0: ignored: not a regular file"})
}

func TestPackageDirectory(t *testing.T) {
	tpl := parseTemplateFiles(t, map[string]string{
		"container-configs/packages/web.apt":      "nginx\n",
		"container-configs/packages/base.apt":     "curl\ngit\n",
		"container-configs/packages/base.npm":     "typescript@5.4.5\n",
		"container-configs/packages/tools.custom": "nvm|command -v nvm|curl -fsSL https://x/install.sh | bash|600\n",
		"container-configs/packages/notes.txt":    "not packages\n",
		"container-configs/packages/README.md":    "docs\n",
		"container-configs/packages/.gitkeep":     "",
		"container-configs/packages/old/x.apt":    "curl\n",
	})
	var got []string
	for _, p := range tpl.Spec.Packages {
		got = append(got, p.Bucket+"/"+p.Manager+"/"+p.Spec)
	}
	want := []string{"base/apt/curl", "base/apt/git", "base/npm/typescript@5.4.5", "tools/custom/nvm", "web/apt/nginx"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("packages:\n got  %q\n want %q", got, want)
	}
	expectProblems(t, "errors", tpl.Errors, nil)
	expectProblems(t, "warnings", tpl.Warnings, []string{
		"t/container-configs/packages/notes.txt:0: ignored: unknown package file extension",
		"t/container-configs/packages/old:0: ignored: subdirectories of packages/ are not read",
	})
}

func TestPackageFileErrorsMakeTemplateInvalid(t *testing.T) {
	tpl := parseTemplateFiles(t, map[string]string{
		"container-configs/packages/base.apt": "curl\nrm -rf /\n",
	})
	if tpl.Valid() {
		t.Fatal("template with an invalid package spec is valid")
	}
	expectProblems(t, "errors", tpl.Errors, []string{`t/container-configs/packages/base.apt:2: package spec "rm -rf /" contains whitespace`})
}

const filesDirPath = "container-configs/files/"

// TestFiles covers the content file + sidecars rules.
func TestFiles(t *testing.T) {
	binary := "\x00\x01\xff\xfe binary"
	tpl := parseTemplateFiles(t, map[string]string{
		filesDirPath + ".bashrc":           "alias ll='ls -l'\n",
		filesDirPath + ".bashrc.path":      "/home/dev\n",
		filesDirPath + ".bashrc.policy":    "default\n",
		filesDirPath + "app.conf":          "server {}\n",
		filesDirPath + "app.conf.path":     "\n  \n  /etc/nginx/conf.d/  \n",
		filesDirPath + "app.conf.policy":   "replace",
		filesDirPath + "logo.png":          binary,
		filesDirPath + "logo.png.path":     "/var/www",
		filesDirPath + "logo.png.policy":   "backup",
		filesDirPath + "empty":             "",
		filesDirPath + "empty.path":        "/",
		filesDirPath + "nopolicy.txt":      "x",
		filesDirPath + "nopolicy.txt.path": "/opt",
		filesDirPath + "README.md":         "docs are ignored",
		filesDirPath + ".gitkeep":          "",
		filesDirPath + "orphan.path":       "/etc",
		filesDirPath + "ghost.policy":      "replace",
		filesDirPath + "sub/inner":         "x",
		filesDirPath + "sub.path":          "/etc",
	})
	want := []File{
		{Name: ".bashrc", TargetPath: "/home/dev", Policy: "default", Mode: "0644", Content: "alias ll='ls -l'\n", SHA256: sha256Hex([]byte("alias ll='ls -l'\n"))},
		{Name: "app.conf", TargetPath: "/etc/nginx/conf.d", Policy: "replace", Mode: "0644", Content: "server {}\n", SHA256: sha256Hex([]byte("server {}\n"))},
		{Name: "empty", TargetPath: "/", Policy: "default", Mode: "0644", SHA256: sha256Hex(nil)},
		{Name: "logo.png", TargetPath: "/var/www", Policy: "backup", Mode: "0644", ContentBase64: base64.StdEncoding.EncodeToString([]byte(binary)), SHA256: sha256Hex([]byte(binary))},
		{Name: "nopolicy.txt", TargetPath: "/opt", Policy: "default", Mode: "0644", Content: "x", SHA256: sha256Hex([]byte("x"))},
	}
	if !reflect.DeepEqual(tpl.Spec.Files, want) {
		t.Errorf("files:\n got  %+v\n want %+v", tpl.Spec.Files, want)
	}
	sum := sha256.Sum256([]byte(binary))
	if tpl.Spec.Files[3].SHA256 != hex.EncodeToString(sum[:]) {
		t.Error("sha256 is not over the raw bytes")
	}
	if got := tpl.Spec.Files[0].Target(); got != "/home/dev/.bashrc" {
		t.Errorf("Target() = %q", got)
	}
	if got := tpl.Spec.Files[2].Target(); got != "/empty" {
		t.Errorf("Target() = %q", got)
	}
	expectProblems(t, "errors", tpl.Errors, nil)
	expectProblems(t, "warnings", tpl.Warnings, []string{
		"t/container-configs/files/empty:0: missing empty.policy: using policy \"default\"",
		"t/container-configs/files/nopolicy.txt:0: missing nopolicy.txt.policy: using policy \"default\"",
		"t/container-configs/files/sub:0: ignored: subdirectories of files/ are not deployed",
		"t/container-configs/files/ghost.policy:0: ignored: there is no content file \"ghost\"",
		"t/container-configs/files/orphan.path:0: ignored: there is no content file \"orphan\"",
	})
}

func TestFileMode(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"t/template.conf":                      "",
		"t/" + filesDirPath + "run":            "#!/bin/sh\n",
		"t/" + filesDirPath + "run.path":       "/usr/local/bin",
		"t/" + filesDirPath + "run.policy":     "replace",
		"t/" + filesDirPath + "group-x":        "x",
		"t/" + filesDirPath + "group-x.path":   "/opt",
		"t/" + filesDirPath + "group-x.policy": "replace",
	})
	if err := os.Chmod(filepath.Join(root, "t", filesDirPath, "run"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "t", filesDirPath, "group-x"), 0o614); err != nil {
		t.Fatal(err)
	}
	tpl := onlyTemplate(t, root)
	modes := map[string]string{}
	for _, f := range tpl.Spec.Files {
		modes[f.Name] = f.Mode
	}
	if want := map[string]string{"run": "0755", "group-x": "0755"}; !reflect.DeepEqual(modes, want) {
		t.Errorf("modes: got %v, want %v", modes, want)
	}
}

// TestFileSidecarErrors: a missing .path, an unknown policy and unusable
// target directories are errors naming the sidecar and its line.
func TestFileSidecarErrors(t *testing.T) {
	tests := []struct {
		name     string
		path     *string // nil: no .path sidecar
		policy   string
		wantErr  string
		wantPath string
	}{
		{name: "missing .path", path: nil, policy: "replace", wantErr: "t/container-configs/files/f: missing f.path: it must hold the absolute target directory"},
		{name: "unknown policy", path: ptr("/etc"), policy: "\noverwrite\n", wantErr: `t/container-configs/files/f.policy:2: unknown policy "overwrite" (use replace, default or backup)`},
		{name: "policy is case-sensitive", path: ptr("/etc"), policy: "Replace", wantErr: `f.policy:1: unknown policy "Replace"`},
		{name: "empty policy", path: ptr("/etc"), policy: "\n \n", wantErr: "f.policy: empty: expected one line"},
		{name: "relative path", path: ptr("etc/app"), policy: "replace", wantErr: `t/container-configs/files/f.path:1: target directory "etc/app" must be an absolute path`},
		{name: "dot-dot", path: ptr("/etc/../root"), policy: "replace", wantErr: `f.path:1: target directory "/etc/../root" must not contain ".."`},
		{name: "trailing dot-dot", path: ptr("/srv/.."), policy: "replace", wantErr: `must not contain ".."`},
		{name: "double slash", path: ptr("/etc//app"), policy: "replace", wantErr: `f.path:1: target directory "/etc//app" is not a clean path`},
		{name: "dot element", path: ptr("/etc/./app"), policy: "replace", wantErr: "is not a clean path"},
		{name: "NUL byte", path: ptr("/etc/a\x00b"), policy: "replace", wantErr: "f.path:1: target directory contains a NUL byte"},
		{name: "not UTF-8", path: ptr("/etc/caf\xe9"), policy: "replace", wantErr: "f.path:1: target directory is not valid UTF-8"},
		{name: "empty path", path: ptr("\n\n"), policy: "replace", wantErr: "f.path: empty: expected one line"},
		{name: "blank lines around the value are fine", path: ptr("\n /srv/app/ \n\n  \n"), policy: "\nreplace\n\n", wantPath: "/srv/app"},
		{name: "a second line in .path", path: ptr("\n /srv/app/ \n/other\n"), policy: "replace",
			wantErr: `t/container-configs/files/f.path:3: a second value "/other": this file holds exactly one line (the first is on line 2)`},
		{name: "a second line after blank lines", path: ptr("/srv\n\n\n  /srv/app  \n"), policy: "replace",
			wantErr: `f.path:4: a second value "/srv/app"`},
		{name: "a second line in .policy", path: ptr("/srv"), policy: "replace\nbackup\n",
			wantErr: `t/container-configs/files/f.policy:2: a second value "backup": this file holds exactly one line (the first is on line 1)`},
		{name: "trailing slashes removed", path: ptr("/srv//"), policy: "replace", wantPath: "/srv"},
		{name: "root directory", path: ptr("///"), policy: "replace", wantPath: "/"},
		{name: "spaces inside the path are kept", path: ptr("/srv/my app"), policy: "replace", wantPath: "/srv/my app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{filesDirPath + "f": "content", filesDirPath + "f.policy": tc.policy}
			if tc.path != nil {
				files[filesDirPath+"f.path"] = *tc.path
			}
			tpl := parseTemplateFiles(t, files)
			if tc.wantErr == "" {
				expectProblems(t, "errors", tpl.Errors, nil)
				if len(tpl.Spec.Files) != 1 || tpl.Spec.Files[0].TargetPath != tc.wantPath {
					t.Errorf("files: %+v, want target %q", tpl.Spec.Files, tc.wantPath)
				}
				return
			}
			if tpl.Valid() || len(tpl.Spec.Files) != 0 {
				t.Errorf("valid=%v files=%+v; want an invalid template without the file", tpl.Valid(), tpl.Spec.Files)
			}
			if len(tpl.Errors) != 1 || !strings.Contains(tpl.Errors[0].Error(), tc.wantErr) {
				t.Errorf("errors: %s\nwant: %s", problemList(tpl.Errors), tc.wantErr)
			}
		})
	}
}

func ptr(s string) *string { return &s }

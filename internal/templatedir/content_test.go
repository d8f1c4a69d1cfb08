package templatedir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// webTemplate writes a template with a script, a text file and a binary
// file, and returns its compact spec.
func webTemplate(t *testing.T) Spec {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"t/template.conf":                           "TEMPLATE_OS=debian\n",
		"t/container-configs/scripts/10-setup.sh":   "#!/bin/bash\necho setup\n",
		"t/container-configs/files/app.conf":        "listen 80\n",
		"t/container-configs/files/app.conf.path":   "/etc/app\n",
		"t/container-configs/files/app.conf.policy": "replace\n",
		"t/container-configs/files/logo.bin":        "\xff\xfe\x00binary",
		"t/container-configs/files/logo.bin.path":   "/srv\n",
		"t/container-configs/files/logo.bin.policy": "default\n",
	})
	tpl := onlyTemplate(t, root)
	spec := tpl.Spec
	spec.Source = filepath.Join(root, "t")
	return spec.Compact()
}

func TestLoadContentReadsWhatThePlanNamed(t *testing.T) {
	compact := webTemplate(t)
	if compact.Scripts[0].Content != "" || compact.Files[0].Content != "" || compact.Files[1].ContentBase64 != "" {
		t.Fatal("the compact spec carries content")
	}
	loaded, err := LoadContent(compact)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Scripts[0].Content != "#!/bin/bash\necho setup\n" || loaded.Files[0].Content != "listen 80\n" {
		t.Errorf("loaded %+v", loaded)
	}
	if raw, err := loaded.Files[1].Raw(); err != nil || string(raw) != "\xff\xfe\x00binary" {
		t.Errorf("binary file: %q %v", raw, err)
	}
	if loaded.ComputeDigest() != compact.ComputeDigest() {
		t.Error("loading content changed the digest")
	}
	if compact.Scripts[0].Content != "" {
		t.Error("LoadContent changed its argument")
	}
}

func TestLoadContentRefusesChangedFiles(t *testing.T) {
	tests := []struct {
		name, file string
		edit       func(dir string) error
		want       string
	}{
		{"script edited", "t/container-configs/scripts/10-setup.sh", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "container-configs/scripts/10-setup.sh"), []byte("rm -rf /\n"), 0o600)
		}, "changed since the plan"},
		{"file removed", "t/container-configs/files/app.conf", func(dir string) error {
			return os.Remove(filepath.Join(dir, "container-configs/files/app.conf"))
		}, "is gone since the plan"},
		{"file's sidecar broken", "t/container-configs/files/app.conf", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "container-configs/files/app.conf.path"), []byte("relative\n"), 0o600)
		}, "no longer readable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			compact := webTemplate(t)
			if err := tc.edit(compact.Source); err != nil {
				t.Fatal(err)
			}
			_, err := LoadContent(compact)
			var changed *ContentChangedError
			if !errors.As(err, &changed) || changed.File != tc.file || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a change of %s (%s)", err, tc.file, tc.want)
			}
		})
	}
}

func TestLoadContentOfInlineSpecs(t *testing.T) {
	inline := Spec{Name: "inline", Scripts: []Script{{Name: "a.sh", Content: "echo a\n"}}}
	if got, err := LoadContent(inline); err != nil || got.Scripts[0].Content != "echo a\n" {
		t.Errorf("inline content: %v %+v", err, got)
	}
	compact := webTemplate(t)
	compact.Source = ""
	if _, err := LoadContent(compact); err == nil || !strings.Contains(err.Error(), "names no template directory") {
		t.Errorf("compact without source: %v", err)
	}
	compact.Source = filepath.Join(t.TempDir(), "missing")
	if _, err := LoadContent(compact); err == nil {
		t.Error("a missing source directory must be an error")
	}
}

package templatedir

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

func templateNames(res *Result) []string {
	names := []string{}
	for _, t := range res.Templates {
		names = append(names, t.Name)
	}
	return names
}

// TestDiscoverWhatIsATemplate: direct, non-hidden subdirectories with a
// template.conf; everything else is ignored silently.
func TestDiscoverWhatIsATemplate(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"web/template.conf":                 "TEMPLATE_APP=Web\n",
		"web/README.md":                     "docs",
		"web/CREDENTIALS.md":                "docs",
		"web/TESTING.md":                    "docs",
		"web/container.sh":                  "#!/bin/bash\nexit 1\n",
		"web/anything-else.txt":             "ignored",
		"api/template.conf":                 "",
		"api/container-configs/unknown/x":   "ignored",
		".git/template.conf":                "",
		".hidden/template.conf":             "",
		"docs/readme.txt":                   "no template.conf",
		"nested/deeper/template.conf":       "",
		"template.conf":                     "a file at the root is no template",
		"README.md":                         "docs",
		"only-configs/container-configs/x/": "",
	})
	res := discoverAll(t, root)
	if got, want := templateNames(res), []string{"api", "web"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("templates: got %q, want %q", got, want)
	}
	for _, tpl := range res.Templates {
		if !tpl.Valid() || len(tpl.Warnings) != 0 {
			t.Errorf("%s: errors %s warnings %s", tpl.Name, problemList(tpl.Errors), problemList(tpl.Warnings))
		}
		// A missing container-configs or subdirectory means empty lists.
		if tpl.Spec.Scripts == nil || tpl.Spec.Packages == nil || tpl.Spec.Files == nil ||
			len(tpl.Spec.Scripts)+len(tpl.Spec.Packages)+len(tpl.Spec.Files) != 0 {
			t.Errorf("%s: want empty non-nil lists, got %+v", tpl.Name, tpl.Spec)
		}
	}
	if res.Templates[1].Spec.AppName != "Web" || res.Templates[0].Spec.AppName != "api" {
		t.Errorf("app names: %q %q", res.Templates[0].Spec.AppName, res.Templates[1].Spec.AppName)
	}
	if len(res.Warnings) != 0 || len(res.Missing) != 0 {
		t.Errorf("result warnings %v missing %v", res.Warnings, res.Missing)
	}
}

func TestDiscoverNamesFilter(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"a/template.conf": "", "b/template.conf": "", "c/template.conf": "", "plain/x": "",
	})
	res, err := Discover(root, Options{Names: []string{"c", "a", "nope", "plain", ".git"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := templateNames(res); !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Errorf("templates: %q", got)
	}
	if want := []string{".git", "nope", "plain"}; !reflect.DeepEqual(res.Missing, want) {
		t.Errorf("missing: got %q, want %q", res.Missing, want)
	}
}

func TestDiscoverRootErrors(t *testing.T) {
	if _, err := Discover(filepath.Join(t.TempDir(), "absent"), Options{}); err == nil {
		t.Error("missing root: no error")
	}
	f := filepath.Join(t.TempDir(), "file")
	writeFiles(t, filepath.Dir(f), map[string]string{"file": "x"})
	if _, err := Discover(f, Options{}); err == nil {
		t.Error("root is a file: no error")
	}
}

func TestLayoutErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"t/container-configs/scripts":   "a file where a directory belongs",
		"t/container-configs/packages/": "",
		"t/template.conf/":              "",
	})
	tpl := onlyTemplate(t, root)
	expectProblems(t, "errors", tpl.Errors, []string{
		"t/template.conf:0: not a regular file",
		"t/container-configs/scripts:0: expected a directory",
	})
	if tpl.Valid() || tpl.Spec.OSTemplate != "debian-12-standard" {
		t.Errorf("valid=%v spec=%+v", tpl.Valid(), tpl.Spec)
	}
}

// TestSymlinks: links inside the template are followed; links leading out
// of it (even into the discovery root) are errors and are never read.
func TestSymlinks(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret": "TOP SECRET"})
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"t/template.conf":                            "",
		"t/shared/real.conf":                         "real content\n",
		"t/shared/scripts/10-linked-dir.sh":          "echo linked dir\n",
		"t/container-configs/files/inside.path":      "/etc",
		"t/container-configs/files/inside.policy":    "replace",
		"t/container-configs/files/absinside.path":   "/etc",
		"t/container-configs/files/absinside.policy": "replace",
		"t/container-configs/files/chain.path":       "/etc",
		"t/container-configs/files/chain.policy":     "replace",
		"t/container-configs/files/escape.path":      "/etc",
		"t/container-configs/files/escape.policy":    "replace",
		"t/container-configs/files/sibling.path":     "/etc",
		"t/container-configs/files/sibling.policy":   "replace",
		"t/container-configs/files/abs.path":         "/etc",
		"t/container-configs/files/abs.policy":       "replace",
		"t/container-configs/files/broken.path":      "/etc",
		"t/container-configs/files/broken.policy":    "replace",
		"t/container-configs/files/loop.path":        "/etc",
		"t/container-configs/files/loop.policy":      "replace",
		"other/private.conf":                         "another template's file",
	})
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	files := "t/container-configs/files/"
	symlink(t, root, files+"inside", "../../shared/real.conf")
	symlink(t, root, files+"absinside", filepath.Join(realRoot, "t/shared/real.conf"))
	symlink(t, root, files+"chain", "inside")
	symlink(t, root, files+"escape", "../../../other/private.conf")
	symlink(t, root, files+"sibling", "../../../t/../other/private.conf")
	symlink(t, root, files+"abs", filepath.Join(outside, "secret"))
	symlink(t, root, files+"broken", "../../shared/missing.conf")
	symlink(t, root, files+"loop", "loop")
	symlink(t, root, "t/container-configs/scripts", "../shared/scripts")

	tpl := onlyTemplate(t, root)
	var names []string
	for _, f := range tpl.Spec.Files {
		names = append(names, f.Name)
		if f.Content != "real content\n" {
			t.Errorf("%s: content %q", f.Name, f.Content)
		}
	}
	if want := []string{"absinside", "chain", "inside"}; !reflect.DeepEqual(names, want) {
		t.Errorf("followed links: got %q, want %q", names, want)
	}
	if len(tpl.Spec.Scripts) != 1 || tpl.Spec.Scripts[0].Content != "echo linked dir\n" {
		t.Errorf("scripts through a linked directory: %+v", tpl.Spec.Scripts)
	}
	expectProblems(t, "errors", tpl.Errors, []string{
		"t/container-configs/files/abs:0: symlink to \"" + filepath.Join(outside, "secret") + "\" resolves outside the template directory",
		"t/container-configs/files/broken:0: broken symlink to \"../../shared/missing.conf\"",
		"t/container-configs/files/escape:0: symlink to \"../../../other/private.conf\" resolves outside the template directory",
		"t/container-configs/files/loop:0: cannot follow symlink to \"loop\": too many levels of symbolic links",
		"t/container-configs/files/sibling:0: symlink to \"../../../t/../other/private.conf\" resolves outside the template directory",
	})
	expectProblems(t, "warnings", tpl.Warnings, nil) // the sidecars of rejected links are not orphans
	for _, p := range append(tpl.Errors, tpl.Warnings...) {
		if strings.Contains(p.Message, "SECRET") || strings.Contains(p.Message, "another template") {
			t.Errorf("content outside the template leaked into %q", p.Error())
		}
	}
}

func TestSymlinkedTemplateParts(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"template.conf": "TEMPLATE_CPU=4\n", "scripts/10-x.sh": "echo\n"})
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"t/container-configs/": "", "shared/scripts/10-y.sh": "echo\n"})
	symlink(t, root, "t/template.conf", filepath.Join(outside, "template.conf"))
	symlink(t, root, "t/container-configs/scripts", filepath.Join(outside, "scripts"))
	symlink(t, root, "t/container-configs/packages", "../../shared/scripts")
	tpl := onlyTemplate(t, root)
	expectProblems(t, "errors", tpl.Errors, []string{
		"t/template.conf:0: resolves outside the template directory",
		"t/container-configs/packages:0: resolves outside the template directory",
		"t/container-configs/scripts:0: resolves outside the template directory",
	})
	if tpl.Spec.Defaults.Cores != 1 || len(tpl.Spec.Scripts) != 0 {
		t.Errorf("read through an escaping link: %+v", tpl.Spec)
	}
}

// TestSymlinkedTemplateDirectories: a root entry linking to a directory
// inside the root is a template under the link's name; one leading out of
// the root is not followed (a warning says so).
func TestSymlinkedTemplateDirectories(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"ext/template.conf": ""})
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"real/template.conf": "", "real/container-configs/scripts/10-a.sh": "echo\n"})
	symlink(t, root, "alias", "real")
	symlink(t, root, "external", filepath.Join(outside, "ext"))
	symlink(t, root, "dangling", "nowhere")
	res := discoverAll(t, root)
	if got := templateNames(res); !reflect.DeepEqual(got, []string{"alias", "real"}) {
		t.Fatalf("templates: %q", got)
	}
	alias := res.Templates[0]
	if !alias.Valid() || len(alias.Spec.Scripts) != 1 || alias.Spec.Name != "alias" {
		t.Errorf("alias: %+v %s", alias.Spec, problemList(alias.Errors))
	}
	expectProblems(t, "root warnings", res.Warnings, []string{"external:0: ignored: symlink to"})
}

// TestParseTemplateFS parses a template from an in-memory fs.FS, symlinks
// included.
func TestParseTemplateFS(t *testing.T) {
	fsys := fstest.MapFS{
		"repo/templates/web/template.conf":                             {Data: []byte("TEMPLATE_CPU=2\n")},
		"repo/templates/web/container-configs/scripts/10-a.sh":         {Data: []byte("echo a\n")},
		"repo/templates/web/container-configs/scripts/20-link.sh":      {Data: []byte("10-a.sh"), Mode: os.ModeSymlink},
		"repo/templates/web/container-configs/scripts/30-escape.sh":    {Data: []byte("../../../other/x.sh"), Mode: os.ModeSymlink},
		"repo/templates/web/container-configs/scripts/40-absolute.sh":  {Data: []byte("/etc/passwd"), Mode: os.ModeSymlink},
		"repo/templates/web/container-configs/packages/base.apt":       {Data: []byte("curl\n")},
		"repo/templates/web/container-configs/files/run":               {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"repo/templates/web/container-configs/files/run.path":          {Data: []byte("/usr/local/bin\n")},
		"repo/templates/web/container-configs/files/run.policy":        {Data: []byte("replace\n")},
		"repo/templates/other/x.sh":                                    {Data: []byte("echo other\n")},
		"repo/templates/link-to-web":                                   {Data: []byte("web"), Mode: os.ModeSymlink},
		"repo/templates/web/container-configs/files/.hidden":           {Data: []byte("h")},
		"repo/templates/web/container-configs/files/.hidden.path":      {Data: []byte("/root")},
		"repo/templates/web/container-configs/files/.hidden.policy":    {Data: []byte("default")},
		"repo/templates/web/container-configs/packages/broken.unknown": {Data: []byte("x")},
	}
	tpl := ParseTemplate(fsys, "repo/templates/web")
	if tpl.Name != "web" || tpl.Spec.Defaults.Cores != 2 || len(tpl.Spec.Scripts) != 2 || len(tpl.Spec.Packages) != 1 || len(tpl.Spec.Files) != 2 {
		t.Fatalf("spec: %+v", tpl.Spec)
	}
	if tpl.Spec.Scripts[1].Content != "echo a\n" || tpl.Spec.Files[1].Mode != "0755" {
		t.Errorf("link content %q, mode %q", tpl.Spec.Scripts[1].Content, tpl.Spec.Files[1].Mode)
	}
	expectProblems(t, "errors", tpl.Errors, []string{
		"repo/templates/web/container-configs/scripts/30-escape.sh:0: resolves outside the template directory",
		"repo/templates/web/container-configs/scripts/40-absolute.sh:0: resolves outside the template directory",
	})
	expectProblems(t, "warnings", tpl.Warnings, []string{"repo/templates/web/container-configs/packages/broken.unknown:0: unknown package file extension"})

	linked := ParseTemplate(fsys, "repo/templates/link-to-web")
	if linked.Name != "link-to-web" || len(linked.Spec.Scripts) != 2 {
		t.Errorf("linked template: %+v", linked.Spec)
	}
	for _, dir := range []string{".", "/abs", "repo/../x", "repo/templates/absent"} {
		if tpl := ParseTemplate(fsys, dir); tpl.Valid() {
			t.Errorf("ParseTemplate(%q) is valid", dir)
		}
	}
	if tpl := ParseTemplate(fsys, "repo/templates/other"); tpl.Valid() || !strings.Contains(problemList(tpl.Errors), "template.conf: missing") {
		t.Errorf("a directory without template.conf: %s", problemList(tpl.Errors))
	}
}

func TestLoadTemplate(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"web/template.conf": "TEMPLATE_CPU=zero\n"})
	tpl, err := LoadTemplate(filepath.Join(root, "web"))
	if err != nil {
		t.Fatal(err)
	}
	expectProblems(t, "errors", tpl.Errors, []string{"web/template.conf:1: TEMPLATE_CPU"})
	if _, err := LoadTemplate(filepath.Join(root, "absent")); err == nil {
		t.Error("missing dir: no error")
	}
}

// TestSizeLimits uses the real limits: 4 MiB per file, 32 MiB per template.
func TestSizeLimits(t *testing.T) {
	big := strings.Repeat("a", MaxFileSize)
	t.Run("a file of exactly 4 MiB is fine, one byte more is an error", func(t *testing.T) {
		tpl := parseTemplateFiles(t, map[string]string{
			filesDirPath + "exact": big, filesDirPath + "exact.path": "/srv", filesDirPath + "exact.policy": "replace",
			filesDirPath + "over": big + "a", filesDirPath + "over.path": "/srv", filesDirPath + "over.policy": "replace",
			"container-configs/scripts/10-over.sh": big + "\n",
		})
		expectProblems(t, "errors", tpl.Errors, []string{
			"t/container-configs/files/over:0: file is 4194305 bytes, over the limit",
			"t/container-configs/scripts/10-over.sh:0: file is 4194305 bytes, over the limit of 4194304 bytes (4 MiB) for one file",
		})
		if len(tpl.Spec.Files) != 1 || len(tpl.Spec.Files[0].Content) != MaxFileSize {
			t.Errorf("files: %d", len(tpl.Spec.Files))
		}
	})
	t.Run("a template over 32 MiB in total is an error", func(t *testing.T) {
		files := map[string]string{}
		for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} { // 8 × 4 MiB = 32 MiB of content
			files[filesDirPath+n] = big
			files[filesDirPath+n+".path"] = "/srv"
			files[filesDirPath+n+".policy"] = "replace"
		}
		tpl := parseTemplateFiles(t, files)
		expectProblems(t, "errors", tpl.Errors, []string{"t:0: template files total more than 33554432 bytes (32 MiB), the limit for one template"})
	})
}

// TestPortableReader runs the filesystem tests again with the os.Root
// reader that platforms without the raw-descriptor reader use.
func TestPortableReader(t *testing.T) {
	portableReaderOnly = true
	defer func() { portableReaderOnly = false }()
	for name, test := range map[string]func(*testing.T){
		"DiscoverWhatIsATemplate":      TestDiscoverWhatIsATemplate,
		"LayoutErrors":                 TestLayoutErrors,
		"Symlinks":                     TestSymlinks,
		"SymlinkedTemplateParts":       TestSymlinkedTemplateParts,
		"SymlinkedTemplateDirectories": TestSymlinkedTemplateDirectories,
		"LoadTemplate":                 TestLoadTemplate,
		"SizeLimits":                   TestSizeLimits,
		"Files":                        TestFiles,
		"FileMode":                     TestFileMode,
		"ScriptProblems":               TestScriptProblems,
		"Deterministic":                TestDeterministic,
		"QuickstartTemplates":          TestQuickstartTemplates,
	} {
		t.Run(name, test)
	}
}

// TestTemplateNames: a directory name that provisioning cannot carry (a
// newline, another control or invisible character, invalid UTF-8, a
// leading or trailing space) makes the template invalid at discovery, with
// an error naming the directory; any other printable name is fine.
func TestTemplateNames(t *testing.T) {
	tests := []struct {
		dir     string
		wantErr string
	}{
		{dir: "web"},
		{dir: "web-app_2.0"},
		{dir: "my web app"},
		{dir: "wéb-ñ"},
		{dir: "web\napp", wantErr: `template name "web\napp" contains the character U+000A, which is not printable`},
		{dir: "web\tapp", wantErr: "U+0009"},
		{dir: "web\rapp", wantErr: "U+000D"},
		{dir: "web\x7fapp", wantErr: "U+007F"},
		{dir: "zero\u200bwidth", wantErr: "U+200B"},
		{dir: "no\u00a0break", wantErr: "U+00A0"},
		{dir: " web", wantErr: `template name " web" starts or ends with a space`},
		{dir: "web ", wantErr: "starts or ends with a space"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, map[string]string{tc.dir + "/template.conf": "TEMPLATE_CPU=2\n"})
			res := discoverAll(t, root)
			if len(res.Templates) != 1 {
				t.Fatalf("discovered %d templates, want 1", len(res.Templates))
			}
			tpl := res.Templates[0]
			if !utf8.ValidString(tpl.Name) || tpl.Name != strings.ToValidUTF8(tc.dir, "\uFFFD") {
				t.Errorf("name %q", tpl.Name)
			}
			if tc.wantErr == "" {
				expectProblems(t, "errors", tpl.Errors, nil)
				return
			}
			if tpl.Valid() || len(tpl.Errors) != 1 {
				t.Fatalf("errors: %s; want exactly one about the name", problemList(tpl.Errors))
			}
			p := tpl.Errors[0]
			if p.File != tpl.Name || p.Line != 0 || !strings.Contains(p.Message, tc.wantErr) {
				t.Errorf("error %q (file %q), want file %q and %q", p.Error(), p.File, tpl.Name, tc.wantErr)
			}
			// The other entry points check the name the same way.
			loaded, err := LoadTemplate(filepath.Join(root, tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			if loaded.Valid() {
				t.Error("LoadTemplate accepted the name")
			}
			parsed := ParseTemplate(os.DirFS(root), tc.dir)
			if parsed.Valid() {
				t.Error("ParseTemplate accepted the name")
			}
		})
	}
	if err := ValidateName("a/b"); err == nil || !strings.Contains(err.Error(), `contains "/"`) {
		t.Errorf("ValidateName(a/b) = %v", err)
	}
	// Discover never lists such a directory (fs paths are UTF-8), but
	// LoadTemplate and other callers may pass one.
	if err := ValidateName("caf\xe9"); err == nil || !strings.Contains(err.Error(), "\"caf\uFFFD\" is not valid UTF-8") {
		t.Errorf("ValidateName(invalid UTF-8) = %v", err)
	}
	if err := ValidateName(""); err == nil {
		t.Error("ValidateName accepted an empty name")
	}
}

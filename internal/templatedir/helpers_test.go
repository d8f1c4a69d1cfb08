package templatedir

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// writeFiles creates files (slash paths relative to root, content) with
// their parent directories. A path ending in "/" creates a directory.
func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// symlink creates root/name pointing at target.
func symlink(t testing.TB, root, name, target string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// discoverAll runs Discover on root and fails the test on an error.
func discoverAll(t testing.TB, root string) *Result {
	t.Helper()
	res, err := Discover(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// onlyTemplate discovers root and returns its template "t".
func onlyTemplate(t testing.TB, root string) *Template {
	t.Helper()
	res := discoverAll(t, root)
	for _, tpl := range res.Templates {
		if tpl.Name == "t" {
			return tpl
		}
	}
	t.Fatalf("template \"t\" not discovered in %s (found %d templates)", root, len(res.Templates))
	return nil
}

// parseTemplateFiles writes files into a fresh root as template "t" (a
// template.conf is added unless given) and parses it.
func parseTemplateFiles(t testing.TB, files map[string]string) *Template {
	t.Helper()
	root := t.TempDir()
	all := map[string]string{"t/template.conf": ""}
	for k, v := range files {
		all["t/"+k] = v
	}
	writeFiles(t, root, all)
	return onlyTemplate(t, root)
}

// expectProblems checks problems against wants of the form
// "file:line: substring" / "line: substring" (file omitted) in order.
var wantRE = regexp.MustCompile(`^(?:(.*?):)?(\d+): (.*)$`)

func expectProblems(t *testing.T, kind string, got []Problem, wants []string) {
	t.Helper()
	if len(got) != len(wants) {
		t.Errorf("%s: got %d, want %d:\n got:  %s\n want: %s", kind, len(got), len(wants), problemList(got), strings.Join(wants, " | "))
		return
	}
	for i, w := range wants {
		m := wantRE.FindStringSubmatch(w)
		if m == nil {
			t.Fatalf("bad want %q", w)
		}
		line, _ := strconv.Atoi(m[2])
		p := got[i]
		if (m[1] != "" && p.File != m[1]) || p.Line != line || !strings.Contains(p.Message, m[3]) {
			t.Errorf("%s[%d]: got %q, want %q", kind, i, p.Error(), w)
		}
	}
}

func problemList(ps []Problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Error())
	}
	return strings.Join(s, " | ")
}

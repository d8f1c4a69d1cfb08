package templatedir

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ (run with
// go test -fuzz=FuzzTemplateConf etc.). Every fuzzer checks the same two
// promises: no input panics, and every problem names its file and a line
// that exists in the input.

func lineCount(s string) int { return strings.Count(s, "\n") + 1 }

func checkLocated(t *testing.T, file, input string, probs Problems) {
	t.Helper()
	for _, p := range append(append([]Problem{}, probs.Errors...), probs.Warnings...) {
		if p.File != file {
			t.Fatalf("problem names file %q, want %q: %s", p.File, file, p.Error())
		}
		if p.Line < 1 || p.Line > lineCount(input) {
			t.Fatalf("problem line %d outside 1..%d: %s", p.Line, lineCount(input), p.Error())
		}
		if p.Message == "" || !utf8.ValidString(p.Message) {
			t.Fatalf("bad message %q", p.Message)
		}
	}
}

func FuzzTemplateConf(f *testing.F) {
	f.Fuzz(func(t *testing.T, conf []byte) {
		const file = "fuzz/template.conf"
		var probs Problems
		s := Spec{Name: "fuzz"}
		applyConf(&s, file, conf, &probs)
		checkLocated(t, file, strings.ReplaceAll(string(conf), "\r\n", "\n"), probs)
		for _, v := range append([]string{s.AppName, s.Description, s.OSTemplate, s.ConfigPath, s.Defaults.Storage, s.Defaults.Bridge}, s.Tags...) {
			if !utf8.ValidString(v) {
				t.Fatalf("spec carries invalid UTF-8 %q", v)
			}
		}
		d := s.Defaults
		if d.Cores < 1 || d.Cores > 8192 || d.Memory < 16 || d.Swap < 0 || d.DiskSize < 1 {
			t.Fatalf("out-of-range defaults %+v", d)
		}
		if s.AppName == "" || s.OSTemplate == "" || s.Tags == nil {
			t.Fatalf("missing defaults: %+v", s)
		}
	})
}

// packageExts are the line-oriented package files FuzzPackageLine covers.
var packageExts = []string{ManagerApt, ManagerApk, ManagerDnf, ManagerNpm, ManagerPip}

func FuzzPackageLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, manager uint8, content string) {
		ext := packageExts[int(manager)%len(packageExts)]
		file := "fuzz/container-configs/packages/bucket." + ext
		pkgs, probs := ParsePackageFile(file, []byte(content))
		checkLocated(t, file, content, probs)
		seen := map[string]bool{}
		for _, p := range pkgs {
			if p.Bucket != "bucket" || p.Manager != ext || p.Name == "" || seen[p.Spec] {
				t.Fatalf("bad package %+v", p)
			}
			seen[p.Spec] = true
			if err := checkSpecChars(p.Spec); err != nil {
				t.Fatalf("accepted spec %q: %v", p.Spec, err)
			}
			if !strings.HasPrefix(p.Spec, p.Name) || !strings.HasSuffix(p.Spec, p.Version) {
				t.Fatalf("split %q into %q + %q", p.Spec, p.Name, p.Version)
			}
			again, err := ValidatePackageSpec(ext, p.Spec)
			if err != nil || again.Name != p.Name || again.Version != p.Version {
				t.Fatalf("re-validating %q: %+v, %v", p.Spec, again, err)
			}
		}
	})
}

func FuzzCustomLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, content string) {
		const file = "fuzz/container-configs/packages/installers.custom"
		pkgs, probs := ParsePackageFile(file, []byte(content))
		checkLocated(t, file, content, probs)
		for _, p := range pkgs {
			if p.Manager != ManagerCustom || p.Name == "" || p.Check == "" || p.Install == "" || p.Timeout < 0 || p.Spec != p.Name {
				t.Fatalf("bad custom package %+v", p)
			}
			if strings.ContainsAny(p.Name+p.Check+p.Install, "\n") {
				t.Fatalf("a field spans lines: %+v", p)
			}
		}
	})
}

package templatedir

import (
	"reflect"
	"strings"
	"testing"
)

// TestValidatePackageSpec covers each manager's grammar and version split,
// and the character rule shared by all of them.
func TestValidatePackageSpec(t *testing.T) {
	tests := []struct {
		manager, spec string
		name, version string // expected split when valid
		err           string // substring of the error when invalid
	}{
		// apt: name=version, :arch, /release; lower-case Debian names.
		{"apt", "curl", "curl", "", ""},
		{"apt", "nodejs=24.*", "nodejs", "24.*", ""},
		{"apt", "libc6:i386", "libc6:i386", "", ""},
		{"apt", "docker-ce=5:27.1.1-1~debian.12~bookworm", "docker-ce", "5:27.1.1-1~debian.12~bookworm", ""},
		{"apt", "g++", "g++", "", ""},
		{"apt", "nginx/bookworm-backports", "nginx", "", ""},
		{"apt", "Curl", "", "", "invalid apt package"},
		{"apt", "curl=", "", "", "invalid apt package"},
		{"apt", "curl==1", "", "", "invalid apt package"},
		{"apt", "curl>=1", "", "", "invalid apt package"},
		// apk: name=version, other constraints kept with their operator.
		{"apk", "nodejs=24.0.0-r0", "nodejs", "24.0.0-r0", ""},
		{"apk", "py3-requests>=2.28", "py3-requests", ">=2.28", ""},
		{"apk", "busybox~1.36", "busybox", "~1.36", ""},
		{"apk", "htop@testing", "htop@testing", "", ""},
		{"apk", "foo==1", "", "", "invalid apk package"},
		// dnf: no reliable split.
		{"dnf", "nodejs-24.0.0", "nodejs-24.0.0", "", ""},
		{"dnf", "@development-tools", "@development-tools", "", ""},
		{"dnf", "/usr/bin/python3", "/usr/bin/python3", "", ""},
		{"dnf", "kernel.x86_64", "kernel.x86_64", "", ""},
		{"dnf", "foo>=1", "", "", "invalid dnf package"},
		{"dnf", "foo=1", "", "", "invalid dnf package"},
		// npm: name@version, scoped @scope/name@version.
		{"npm", "typescript@5.4.5", "typescript", "5.4.5", ""},
		{"npm", "typescript", "typescript", "", ""},
		{"npm", "@types/node@20.11.5", "@types/node", "20.11.5", ""},
		{"npm", "@biomejs/biome", "@biomejs/biome", "", ""},
		{"npm", "left-pad@~1.3.0", "left-pad", "~1.3.0", ""},
		{"npm", "pnpm@>=9", "pnpm", ">=9", ""},
		{"npm", "eslint@latest", "eslint", "latest", ""},
		{"npm", "@scope", "", "", "invalid npm package"},
		{"npm", "typescript@", "", "", "invalid npm package"},
		{"npm", "@scope/", "", "", "invalid npm package"},
		{"npm", "typescript@^5", "", "", `contains '^'`},
		{"npm", strings.Repeat("a", 215), "", "", "longer than 214"},
		// pip: PEP 508 name, extras, PEP 440 specifiers.
		{"pip", "requests>=2.28", "requests", ">=2.28", ""},
		{"pip", "pkg[extra]==1.0", "pkg", "==1.0", ""},
		{"pip", "uvicorn[standard,dev]~=0.30", "uvicorn", "~=0.30", ""},
		{"pip", "Django>=4.2,<5", "Django", ">=4.2,<5", ""},
		{"pip", "black", "black", "", ""},
		{"pip", "zope.interface!=5.0", "zope.interface", "!=5.0", ""},
		{"pip", "foo=1", "", "", "invalid pip package"},
		{"pip", "foo>=", "", "", "invalid pip package"},
		{"pip", "foo[]", "", "", "invalid pip package"},
		{"pip", "_foo", "", "", "invalid pip package"},
		// The shared character rule.
		{"apt", "", "", "", "empty package spec"},
		{"apt", "curl git", "", "", "contains whitespace"},
		{"apt", "curl\tgit", "", "", "contains whitespace"},
		{"apt", "-y", "", "", `starts with "-"`},
		{"npm", "--global", "", "", `starts with "-"`},
		{"apt", "curl;rm", "", "", `contains ';'`},
		{"apt", "$(reboot)", "", "", `contains '$'`},
		{"pip", "foo|bar", "", "", `contains '|'`},
		{"apt", "cürl", "", "", `contains 'ü'`},
		{"apt", "curl#1", "", "", `contains '#'`},
		// Managers.
		{"brew", "wget", "", "", `unknown package manager "brew"`},
	}
	for _, tc := range tests {
		t.Run(tc.manager+" "+tc.spec, func(t *testing.T) {
			pkg, err := ValidatePackageSpec(tc.manager, tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want error containing %q", pkg, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Package{Manager: tc.manager, Spec: tc.spec, Name: tc.name, Version: tc.version}
			if pkg != want {
				t.Errorf("got %+v, want %+v", pkg, want)
			}
		})
	}
}

// TestCustomLines covers the .custom line format: pipes in the install
// command, the timeout, "\|" escapes and empty fields.
func TestCustomLines(t *testing.T) {
	tests := []struct {
		line                 string
		name, check, install string
		timeout              int64
		err                  string
	}{
		{line: "nvm|command -v nvm|curl -fsSL https://x/install.sh | bash|600", name: "nvm", check: "command -v nvm", install: "curl -fsSL https://x/install.sh | bash", timeout: 600},
		{line: "tool|test -x /usr/local/bin/tool|make install", name: "tool", check: "test -x /usr/local/bin/tool", install: "make install", timeout: 300},
		{line: "x|true|run|0", name: "x", check: "true", install: "run", timeout: 0},
		{line: " x | true | run | 60 ", name: "x", check: "true", install: "run", timeout: 60},
		{line: "x|c|a | b | c", name: "x", check: "c", install: "a | b | c", timeout: 300},
		{line: "x|c|cmd || true", name: "x", check: "c", install: "cmd || true", timeout: 300},
		{line: "x|c|cmd || exit 3", name: "x", check: "c", install: "cmd || exit 3", timeout: 300},
		{line: `a\|b|test -e /a\|b|echo hi`, name: "a|b", check: "test -e /a|b", install: "echo hi", timeout: 300},
		{line: `x|grep -qE 'a\|b' f|echo \|5`, name: "x", check: "grep -qE 'a|b' f", install: `echo \|5`, timeout: 300},
		{line: "x|c|echo '#1' # not a comment|10", name: "x", check: "c", install: "echo '#1' # not a comment", timeout: 10},
		{line: "|c|i", err: "empty name"},
		{line: "x||i", err: "empty check command"},
		{line: "x|c|", err: "empty install command"},
		{line: "x|c|  |600", err: "empty install command"},
		{line: "x|c", err: "must be name|check command|install command[|timeout seconds]"},
		{line: "just a name", err: "must be name|check"},
		{line: "x|c|i|99999999999999999999999", err: "timeout \"99999999999999999999999\" is too large"},
		{line: "x|c|caf\xe9", err: "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			pkg, err := ValidatePackageSpec(ManagerCustom, tc.line)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want error containing %q", pkg, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Package{Manager: ManagerCustom, Spec: tc.name, Name: tc.name, Check: tc.check, Install: tc.install, Timeout: tc.timeout}
			if pkg != want {
				t.Errorf("got  %+v\nwant %+v", pkg, want)
			}
		})
	}
}

// TestParsePackageFile covers the file level: bucket and manager from the
// name, comments, blank lines, duplicates and line numbers.
func TestParsePackageFile(t *testing.T) {
	tests := []struct {
		file, content string
		specs         []string // Spec of each package, in order
		errs, warns   []string
	}{
		{
			file:    "web/container-configs/packages/base.apt",
			content: "# base tools\ncurl # for downloads\n\n  git  \ngit#not-a-comment\r\njq\t# tab before comment\n",
			specs:   []string{"curl", "git", "jq"},
			errs:    []string{`web/container-configs/packages/base.apt:5: package spec "git#not-a-comment" contains '#'`},
		},
		{
			file:    "base.apt",
			content: "curl\ngit\ncurl\n",
			specs:   []string{"curl", "git"},
			warns:   []string{`base.apt:3: duplicate package "curl" (first on line 1) is kept once`},
		},
		{
			file:    "tools.npm",
			content: "typescript@5.4.5\n@types/node@20.11.5\nbad name\n",
			specs:   []string{"typescript@5.4.5", "@types/node@20.11.5"},
			errs:    []string{"tools.npm:3: package spec \"bad name\" contains whitespace"},
		},
		{
			file:    "py.pip",
			content: "requests>=2.28\n",
			specs:   []string{"requests>=2.28"},
		},
		{
			file:    "installers.custom",
			content: "# name|check|install[|timeout]\n\nnvm|command -v nvm|curl -fsSL https://x/install.sh | bash|600\n  # indented full-line comment\nnvm|true|again\nbroken\n",
			specs:   []string{"nvm"},
			errs:    []string{"installers.custom:6: custom installer line must be"},
			warns:   []string{`installers.custom:5: duplicate package "nvm" (first on line 3)`},
		},
		{file: "notes.txt", content: "curl\n", errs: []string{`notes.txt:0: unknown package file extension ".txt"`}},
		{file: "Makefile", content: "curl\n", errs: []string{`Makefile:0: unknown package file extension ""`}},
		{file: ".apt", content: "curl\n", errs: []string{".apt:0: package file has an empty bucket name"}},
		{file: "empty.dnf", content: "", specs: nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			pkgs, probs := ParsePackageFile(tc.file, []byte(tc.content))
			var specs []string
			for _, p := range pkgs {
				specs = append(specs, p.Spec)
				bucket := strings.TrimSuffix(tc.file[strings.LastIndex(tc.file, "/")+1:], "."+p.Manager)
				if p.Bucket != bucket {
					t.Errorf("bucket of %q: got %q, want %q", p.Spec, p.Bucket, bucket)
				}
			}
			if !reflect.DeepEqual(specs, tc.specs) {
				t.Errorf("specs: got %q, want %q", specs, tc.specs)
			}
			expectProblems(t, "errors", probs.Errors, tc.errs)
			expectProblems(t, "warnings", probs.Warnings, tc.warns)
		})
	}
}

// TestParsePackageFileManagers checks that the manager comes from the
// extension and the parsed rows carry the split version.
func TestParsePackageFileManagers(t *testing.T) {
	for _, m := range Managers() {
		line := map[string]string{
			ManagerApt: "nodejs=24.*", ManagerApk: "nodejs=24.0.0-r0", ManagerDnf: "nodejs-24.0.0",
			ManagerNpm: "typescript@5.4.5", ManagerPip: "requests>=2.28", ManagerCustom: "n|true|install|5",
		}[m]
		pkgs, probs := ParsePackageFile("bucket."+m, []byte(line+"\n"))
		if len(probs.Errors)+len(probs.Warnings) != 0 || len(pkgs) != 1 {
			t.Fatalf("%s: %v %s", m, pkgs, problemList(append(probs.Errors, probs.Warnings...)))
		}
		want, err := ValidatePackageSpec(m, line)
		if err != nil {
			t.Fatal(err)
		}
		want.Bucket = "bucket"
		if pkgs[0] != want {
			t.Errorf("%s: got %+v, want %+v", m, pkgs[0], want)
		}
	}
}

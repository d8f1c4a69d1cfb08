package provision

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runHelpers sources the helpers into shell (bash scripts run them under
// `set -euo pipefail`, so that is how bash runs them here) and runs body.
func runHelpers(t *testing.T, shell testShell, body string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	helpers := filepath.Join(dir, "helpers.sh")
	if err := os.WriteFile(helpers, []byte(helpersScript), 0o644); err != nil {
		t.Fatal(err)
	}
	prelude := "set -eu\n"
	if shell.name == "bash" {
		prelude = "set -euo pipefail\n"
	}
	cmd := exec.Command(shell.sh, "-c", prelude+". \"$1\"\n"+body, "test", helpers) //nolint:gosec // the test's own script
	cmd.Env = append([]string{"PATH=" + shell.path, "LC_ALL=C"}, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestHelpers(t *testing.T) {
	logLine := regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[(INFO   |WARN   |ERROR  )\] `)
	for _, shell := range localShells(t) {
		name := shell.name
		t.Run(name+"/log format", func(t *testing.T) {
			out, errOut, code := runHelpers(t, shell, `log_info "a b"; log_warn w; log_error e`)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != 0 || out != "" || len(lines) != 3 {
				t.Fatalf("code %d stdout %q stderr %q", code, out, errOut)
			}
			for i, want := range []string{"[INFO   ] a b", "[WARN   ] w", "[ERROR  ] e"} {
				if !logLine.MatchString(lines[i]) || !strings.HasSuffix(lines[i], want) {
					t.Errorf("line %q, want the reference format ending in %q", lines[i], want)
				}
			}
		})
		t.Run(name+"/generate_password", func(t *testing.T) { testGeneratePassword(t, shell) })
		t.Run(name+"/save_credential", func(t *testing.T) { testSaveCredential(t, shell) })
		t.Run(name+"/is_installed ensure_installed run_as_user", func(t *testing.T) { testInstalledHelpers(t, shell) })
		t.Run(name+"/quoting for su", func(t *testing.T) {
			out, _, code := runHelpers(t, shell, `for w in "a'b" "" "it's \"x\" \$HOME" '\'; do _lxctm_quote "$w"; eval "printf '[%s]' $_lxctm_q"; done`)
			if code != 0 || out != `[a'b][][it's "x" $HOME][\]` {
				t.Errorf("code %d out %q", code, out)
			}
		})
	}
}

// testSaveCredential: save_credential upserts, refuses bad names, keys
// and values without leaving files, and never logs a value.
func testSaveCredential(t *testing.T, shell testShell) {
	dir := filepath.Join(t.TempDir(), "creds")
	env := "LXCTM_CREDENTIALS_DIR=" + dir
	_, errOut, code := runHelpers(t, shell, `save_credential svc@1 KEY 'v=1 "q" \x'; save_credential svc@1 OTHER o; save_credential svc@1 KEY new`, env)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	if got := readFile(t, dir+"/svc@1"); got != "OTHER=o\nKEY=new\n" {
		t.Errorf("credential file %q", got)
	}
	if strings.Contains(errOut, "new") || strings.Contains(errOut, `"q"`) {
		t.Errorf("values were logged: %q", errOut)
	}
	for _, tc := range []struct{ call, want string }{
		{`save_credential ../x K v`, "invalid service name"},
		{`save_credential .hidden K v`, "invalid service name"},
		{`save_credential s 1K v`, "invalid key"},
		{`save_credential s K-1 v`, "invalid key"},
		{`save_credential s K "$(printf 'a\nb')"`, "contains a newline"},
		{`save_credential s K`, "usage: save_credential"},
	} {
		if _, errOut, code := runHelpers(t, shell, tc.call, env); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: code %d, %q", tc.call, code, errOut)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("refused credentials left files: %v", entries)
	}
}

// testInstalledHelpers: is_installed, ensure_installed, wait_for_apt_lock
// and run_as_user on a host without a package manager or a regular user.
func testInstalledHelpers(t *testing.T, shell testShell) {
	out, errOut, code := runHelpers(t, shell, `is_installed sh && echo yes; is_installed no-such-tool || echo no; _PKG_MGR=unknown; ensure_installed sh; wait_for_apt_lock && echo unlocked`)
	if code != 0 || out != "yes\nno\nunlocked\n" || !strings.Contains(errOut, "sh is already installed") {
		t.Errorf("code %d out %q err %q", code, out, errOut)
	}
	_, errOut, code = runHelpers(t, shell, `_PKG_MGR=unknown; ensure_installed no-such-package-xyz`)
	if code == 0 || !strings.Contains(errOut, "no supported package manager") {
		t.Errorf("ensure_installed without a manager: code %d %q", code, errOut)
	}
	_, errOut, code = runHelpers(t, shell, `CONTAINER_USER=; run_as_user id`)
	if code == 0 || !strings.Contains(errOut, "CONTAINER_USER is not set") {
		t.Errorf("run_as_user without a user: code %d %q", code, errOut)
	}
}

// testGeneratePassword: lengths, charset, and a refused length.
func testGeneratePassword(t *testing.T, shell testShell) {
	out, _, code := runHelpers(t, shell, `generate_password; generate_password 40; p=$(generate_password 200); echo "${#p}"`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("code %d out %q", code, out)
	}
	charset := regexp.MustCompile(`^[A-Za-z0-9]+$`)
	if len(lines[0]) != 16 || len(lines[1]) != 40 || lines[2] != "200" || !charset.MatchString(lines[0]+lines[1]) {
		t.Errorf("passwords %q", lines)
	}
	if _, errOut, code := runHelpers(t, shell, `generate_password abc`); code == 0 || !strings.Contains(errOut, "positive number") {
		t.Errorf("generate_password abc: code %d, %q", code, errOut)
	}
}

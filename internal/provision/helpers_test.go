package provision

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// testShell is a POSIX shell playing the container's /bin/sh, with the
// PATH its userland lives on.
type testShell struct {
	name string // dash, bash or busybox
	sh   string // the shell binary
	path string // PATH for the agent
}

// localShells are the shells the agent is tested with on the host: dash
// (Debian's /bin/sh) with GNU coreutils, bash, and, when installed, a
// BusyBox-only userland without bash (what Alpine containers have).
func localShells(t testing.TB) []testShell {
	t.Helper()
	var shells []testShell
	for _, sh := range []string{"dash", "bash"} {
		if p, err := exec.LookPath(sh); err == nil {
			shells = append(shells, testShell{name: sh, sh: p, path: "/usr/bin:/bin"})
		}
	}
	if len(shells) == 0 {
		t.Fatal("neither dash nor bash is installed: the agent cannot be run on this machine")
	}
	if bb, err := exec.LookPath("busybox"); err == nil {
		shells = append(shells, busyboxShell(t, bb))
	}
	return shells
}

// busyboxShell makes a directory with every BusyBox applet and nothing
// else, and returns its sh with that directory as the whole PATH.
func busyboxShell(t testing.TB, busybox string) testShell {
	t.Helper()
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	dir := t.TempDir()
	for _, applet := range strings.Fields(string(out)) {
		if err := os.Symlink(busybox, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return testShell{name: "busybox", sh: filepath.Join(dir, "sh"), path: dir}
}

// localResult is one agent run on the host.
type localResult struct {
	rep      *Report
	progress []string
	stdout   string
	stderr   string
	exit     int
}

// runLocal runs the agent of run on the host with shell as /bin/sh, its
// temporary files under tmpDir, and extra environment variables. The
// provisioning record and a clone's identity go to a fresh test directory
// unless env says otherwise (LXCTM_RECORD_FILE, LXCTM_ROOT): the host's
// /etc is never touched.
func runLocal(t testing.TB, shell testShell, run *Run, tmpDir string, env ...string) localResult {
	t.Helper()
	argv := run.Argv()
	stdin, err := run.Stdin()
	if err != nil {
		t.Fatalf("Stdin: %v", err)
	}
	cmd := exec.Command(shell.sh, argv[1:]...) //nolint:gosec // the test's own agent
	own := t.TempDir()
	cmd.Env = append([]string{"PATH=" + shell.path, "HOME=/root", "TMPDIR=" + tmpDir,
		"LXCTM_RECORD_FILE=" + filepath.Join(own, "provisioned"), "LXCTM_ROOT=" + filepath.Join(own, "root")}, env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	res := localResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		res.exit = exitErr.ExitCode()
	default:
		t.Fatalf("running the agent with %s: %v", shell.name, runErr)
	}
	res.rep, err = ParseReport(strings.NewReader(res.stdout), func(line string) { res.progress = append(res.progress, line) })
	if err != nil {
		t.Fatalf("ParseReport: %v", err)
	}
	return res
}

// stepByKey finds a step result.
func stepByKey(t testing.TB, rep *Report, key string) StepResult {
	t.Helper()
	for _, s := range rep.Steps {
		if s.Step == key {
			return s
		}
	}
	t.Fatalf("no result for step %s; steps: %+v", key, rep.Steps)
	return StepResult{}
}

// script is an enabled template script.
func script(name, content string) templatedir.Script {
	sum := sha256.Sum256([]byte(content))
	return templatedir.Script{Name: name, Order: orderOf(name), Content: content, SHA256: hex.EncodeToString(sum[:]), Enabled: true}
}

// orderOf is the numeric prefix of a script name.
func orderOf(name string) int64 {
	var n int64
	i := 0
	for ; i < len(name) && name[i] >= '0' && name[i] <= '9'; i++ {
		n = n*10 + int64(name[i]-'0')
	}
	if i == 0 {
		return templatedir.UnnumberedScriptOrder
	}
	return n
}

// file is a template file.
func file(name, dir, policy, mode, content string) templatedir.File {
	sum := sha256.Sum256([]byte(content))
	return templatedir.File{Name: name, TargetPath: dir, Policy: policy, Mode: mode, Content: content, SHA256: hex.EncodeToString(sum[:])}
}

// custom is a .custom package row.
func custom(bucket, name, check, install string, timeout int64) templatedir.Package {
	return templatedir.Package{Bucket: bucket, Manager: templatedir.ManagerCustom, Spec: name, Name: name, Check: check, Install: install, Timeout: timeout}
}

// pkg is a package row of a native or language manager.
func pkg(t testing.TB, manager, bucket, spec string) templatedir.Package {
	t.Helper()
	p, err := templatedir.ValidatePackageSpec(manager, spec)
	if err != nil {
		t.Fatal(err)
	}
	p.Bucket = bucket
	return p
}

// readFile reads a file the agent wrote.
func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// writeFile writes a file, creating its directory.
func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// newRun is NewRun that fails the test on error.
func newRun(t testing.TB, req Request) *Run {
	t.Helper()
	r, err := NewRun(req)
	if err != nil {
		t.Fatalf("NewRun: %v", err)
	}
	return r
}

// sha256hex is the hex SHA-256 of s.
func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

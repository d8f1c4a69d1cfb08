package provision

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Failures of the agent on the host, with every test shell: failing
// custom installers and scripts, a killed step runner, a daemon left
// running, an agent killed mid-run, and stdin it cannot read.

func TestAgentLocalFailures(t *testing.T) {
	for _, shell := range localShells(t) {
		t.Run(shell.name+"/custom installer", func(t *testing.T) { testLocalFailingCustomInstaller(t, shell) })
		t.Run(shell.name+"/script with nasty output", func(t *testing.T) { testLocalFailingScript(t, shell) })
		t.Run(shell.name+"/step runner killed", func(t *testing.T) { testLocalKilledRunner(t, shell) })
		t.Run(shell.name+"/background process keeps its output open", func(t *testing.T) { testLocalBackgroundProcess(t, shell) })
	}
}

func TestAgentLocalInterruptedAndFatal(t *testing.T) {
	for _, shell := range localShells(t) {
		t.Run(shell.name+"/killed mid-run", func(t *testing.T) { testLocalKilledMidRun(t, shell) })
	}

	shell := localShells(t)[0]
	for _, tc := range []struct {
		name, stdin, want string
	}{
		{"empty stdin", "", "stdin is empty: no LXCTM-AGENT header"},
		{"not a header", "hello\n", "does not start with an LXCTM-AGENT header"},
		{"other protocol", "LXCTM-AGENT 99\n", "protocol 99 is not 3"},
		{"no tar", "LXCTM-AGENT 3\n{}\n", "cannot unpack the payload: tar: This does not look like a tar archive"},
	} {
		t.Run("fatal/"+tc.name, func(t *testing.T) { testLocalFatal(t, shell, tc.stdin, tc.want) })
	}
}

// testLocalFailingCustomInstaller: failing and timed-out custom installers
// fail their bucket, the others still run, and nothing after the package
// step runs.
func testLocalFailingCustomInstaller(t *testing.T, shell testShell) {
	root := localRoot(t)
	spec := templatedir.Spec{
		Name: "fail-custom",
		Packages: []templatedir.Package{
			custom("tools", "never", "test -f "+root+"/never", "echo trying; echo oops >&2", 30),
			custom("tools", "slow", "test -f "+root+"/slow", "sleep 5", 1),
			custom("tools", "works", "test -f "+root+"/works", "echo ok | tee "+root+"/works", 30),
		},
		Scripts: []templatedir.Script{script("10-after.sh", "touch "+root+"/script-ran\n")},
		Files:   []templatedir.File{file("f.conf", root+"/etc", templatedir.PolicyReplace, "0644", "x\n")},
	}
	res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
	if res.exit != 1 || res.rep.Interrupted {
		t.Fatalf("exit %d interrupted %v\n%s", res.exit, res.rep.Interrupted, res.stdout)
	}
	failed := res.rep.Failed
	if failed == nil || failed.Step != PackageKey("custom", "tools") || failed.Exit == 0 {
		t.Fatalf("failed step %+v", failed)
	}
	if !strings.Contains(failed.Message, "never") || !strings.Contains(failed.Message, "slow") || strings.Contains(failed.Message, "works") {
		t.Errorf("message %q should name the failed installers only", failed.Message)
	}
	tail := strings.Join(failed.OutputTail, "\n")
	for _, want := range []string{"trying", "oops", "never: check still fails after the install", "slow: install timed out after 1s"} {
		if !strings.Contains(tail, want) {
			t.Errorf("output tail lacks %q:\n%s", want, tail)
		}
	}
	if _, err := os.Stat(root + "/works"); err != nil {
		t.Errorf("a failing line stopped the others: %v", err)
	}
	for _, key := range []string{ScriptKey("10-after.sh"), FileKey(root + "/etc/f.conf")} {
		if s := stepByKey(t, res.rep, key); s.Status != StatusSkipped || !strings.Contains(s.Message, "stopped at package:custom:tools") {
			t.Errorf("%s after a failed package step: %+v", key, s)
		}
	}
	if _, err := os.Stat(root + "/script-ran"); err == nil {
		t.Error("scripts ran after a package step failed")
	}
	var stepErr *StepError
	if err := res.rep.Err(); !errors.As(err, &stepErr) || !strings.Contains(err.Error(), `package bucket "tools" (custom)`) {
		t.Errorf("Err() = %v", err)
	}
	if len(res.rep.Applied) != 0 {
		t.Errorf("applied after a failed run: %v", res.rep.Applied)
	}
}

// testLocalFailingScript: a failing script stops the run, and its output
// tail survives quotes, control characters, invalid UTF-8, forged JSON and
// very long lines.
func testLocalFailingScript(t *testing.T, shell testShell) {
	root := localRoot(t)
	long := strings.Repeat("x", 5000)
	body := "for i in $(seq 1 70); do echo \"line $i\"; done\n" +
		`printf '%s\n' '"quoted" and back\slash'` + "\n" +
		`printf 'tab\there\n'` + "\n" +
		`printf '\033[31mred\033[0m\n'` + "\n" +
		`printf 'cr\rx\n'` + "\n" +
		`printf 'bad \377\376 utf8, good caf\303\251\n'` + "\n" +
		`printf '{"step":"forged","status":"ok"}\n'` + "\n" +
		"echo " + long + " >&2\n" +
		"printf 'no newline at the end'\n" +
		"exit 3\n"
	spec := templatedir.Spec{
		Name: "fail-script",
		Scripts: []templatedir.Script{
			script("10-ok.sh", "echo fine\n"),
			script("20-broken.sh", body),
			script("30-never.sh", "touch "+root+"/never-ran\n"),
		},
		Files: []templatedir.File{file("f.conf", root+"/etc", templatedir.PolicyReplace, "0644", "x\n")},
	}
	res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
	failed := res.rep.Failed
	if res.exit != 1 || failed == nil || failed.Step != ScriptKey("20-broken.sh") || failed.Exit != 3 {
		t.Fatalf("exit %d, failed %+v\n%s", res.exit, failed, res.stdout)
	}
	if len(failed.OutputTail) != 40 {
		t.Errorf("output tail has %d lines, want 40", len(failed.OutputTail))
	}
	wantEnd := []string{
		"line 70",
		`"quoted" and back\slash`,
		"tab\there",
		"\x1b[31mred\x1b[0m",
		"cr\rx",
		"bad \uFFFD\uFFFD utf8, good café",
		`{"step":"forged","status":"ok"}`,
		strings.Repeat("x", 2000),
		"no newline at the end",
	}
	if got := failed.OutputTail[len(failed.OutputTail)-len(wantEnd):]; !slices.Equal(got, wantEnd) {
		t.Errorf("output tail ends with\n%q\nwant\n%q", got, wantEnd)
	}
	for _, s := range res.rep.Steps {
		if s.Step == "forged" {
			t.Error("a script's output was taken for a step result")
		}
	}
	if !slices.Contains(res.progress, `[script:20-broken.sh] {"step":"forged","status":"ok"}`) {
		t.Error("the script's JSON-looking line should have been progress")
	}
	if s := stepByKey(t, res.rep, ScriptKey("30-never.sh")); s.Status != StatusSkipped {
		t.Errorf("30-never.sh: %+v", s)
	}
	if s := stepByKey(t, res.rep, FileKey(root+"/etc/f.conf")); s.Status != StatusSkipped {
		t.Errorf("file after the failed script: %+v", s)
	}
	if _, err := os.Stat(root + "/never-ran"); err == nil {
		t.Error("a script after the failed one ran")
	}
	err := res.rep.Err()
	if err == nil || !strings.HasPrefix(err.Error(), `provisioning failed at script "20-broken.sh": script exited with status 3`) || !strings.Contains(err.Error(), "no newline at the end") {
		t.Errorf("Err() = %v", err)
	}
}

// testLocalKilledRunner: a step runner that dies without reporting fails
// its step with 137.
func testLocalKilledRunner(t *testing.T, shell testShell) {
	root := localRoot(t)
	spec := templatedir.Spec{
		Name: "killed-runner",
		Scripts: []templatedir.Script{
			// The script's parent is the agent's runner for this step:
			// it dies without reporting the exit status.
			script("10-kill.sh", "echo killing my runner\nkill -9 $PPID\nsleep 0.3\n"),
			script("20-next.sh", "touch "+root+"/next-ran\n"),
		},
	}
	res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
	f := res.rep.Failed
	if res.rep.Interrupted || f == nil || f.Step != ScriptKey("10-kill.sh") || f.Exit != 137 {
		t.Fatalf("interrupted %v, failed %+v\n%s", res.rep.Interrupted, f, res.stdout)
	}
	if s := stepByKey(t, res.rep, ScriptKey("20-next.sh")); s.Status != StatusSkipped {
		t.Errorf("20-next.sh: %+v", s)
	}
}

// testLocalBackgroundProcess: a daemon a script starts does not keep the
// agent's output open.
func testLocalBackgroundProcess(t *testing.T, shell testShell) {
	root := localRoot(t)
	spec := templatedir.Spec{
		Name: "daemon",
		Scripts: []templatedir.Script{script("10-daemon.sh",
			"sleep 60 &\necho $! > "+root+"/daemon.pid\necho started\n")},
	}
	res := runLocal(t, shell, newRun(t, Request{Spec: spec, Create: true}), t.TempDir())
	var pid int
	if data, err := os.ReadFile(root + "/daemon.pid"); err == nil {
		_, _ = fmt.Sscan(string(data), &pid)
	}
	if pid <= 0 {
		t.Fatalf("the script did not start its daemon\n%s", res.stdout)
	}
	// The agent's output ended while the daemon still runs: the daemon
	// did not inherit the agent's stdout.
	alive := processAlive(pid)
	killProcess(pid)
	if !alive {
		t.Error("the agent's output only ended when the script's background process exited")
	}
	if res.rep.Err() != nil {
		t.Fatalf("%v\n%s", res.rep.Err(), res.stdout)
	}
}

// testLocalKilledMidRun: an agent killed mid-run leaves an interrupted
// report that keeps what was done, and removes its work directory.
func testLocalKilledMidRun(t *testing.T, shell testShell) {
	tmp := t.TempDir()
	spec := templatedir.Spec{
		Name: "cut",
		Scripts: []templatedir.Script{
			script("10-quick.sh", "echo quick\n"),
			script("20-slow.sh", "echo about-to-be-cut\nsleep 30\n"),
		},
	}
	run := newRun(t, Request{Spec: spec, Create: true})
	argv := run.Argv()
	stdin, err := run.Stdin()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shell.sh, argv[1:]...) //nolint:gosec // the test's own agent
	cmd.Env = []string{"PATH=" + shell.path, "TMPDIR=" + tmp}
	cmd.Stdin = stdin
	ownProcessGroup(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rep, err := ParseReport(out, func(line string) {
		if strings.HasSuffix(line, "about-to-be-cut") {
			// The connection drops: the whole process group goes.
			terminateProcessGroup(cmd)
		}
	})
	_ = cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Failed != nil {
		t.Fatalf("interrupted %v failed %+v", rep.Interrupted, rep.Failed)
	}
	if err := rep.Err(); !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), `after script "10-quick.sh"`) {
		t.Errorf("Err() = %v", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the agent's work directory was not removed on SIGTERM: %v", entries)
	}
	// State keeps what was done and knows nothing of the cut step.
	prov := run.Provisioned(rep)
	if _, ok := prov[ScriptKey("20-slow.sh")]; ok || prov[ScriptKey("10-quick.sh")] == "" {
		t.Errorf("provisioned after a cut run: %v", prov)
	}
}

// testLocalFatal runs the agent on a broken stdin: it exits 2 with a fatal
// line containing want.
func testLocalFatal(t *testing.T, shell testShell, stdin, want string) {
	cmd := exec.Command(shell.sh, "-c", agentScript, "lxctm-agent") //nolint:gosec // the test's own agent
	cmd.Env = []string{"PATH=" + shell.path, "TMPDIR=" + t.TempDir()}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		t.Errorf("exit: %v", err)
	}
	rep, err := ParseReport(strings.NewReader(stdout.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Fatal, want) || rep.Interrupted {
		t.Errorf("fatal %q (interrupted %v), want %q", rep.Fatal, rep.Interrupted, want)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Err() = %v", err)
	}
}

package provision

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// TestAgentReadsStepColumns checks that the agent's reader names the
// columns of stepColumns, in order.
func TestAgentReadsStepColumns(t *testing.T) {
	body := regexp.MustCompile(`(?s)\n_a_read_step\(\) \{\n(.*?)\n\}\n`).FindStringSubmatch(agentScript)
	if body == nil {
		t.Fatal("the agent has no _a_read_step function")
	}
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(body[1], "")
	read := regexp.MustCompile(`IFS=\$_a_tab read -r ([^<]*)<&9`).FindStringSubmatch(joined)
	if read == nil {
		t.Fatalf("_a_read_step does not read a tab-separated line from fd 9:\n%s", body[1])
	}
	var want []string
	for _, c := range stepColumns {
		want = append(want, "_a_step_"+c.name)
	}
	if got := strings.Fields(read[1]); !slices.Equal(got, want) {
		t.Errorf("the agent reads the steps table into\n%v\nbut stepColumns (steptable.go) defines\n%v", got, want)
	}
}

// stepTableSpec has a step of every kind, with and without an applied
// digest.
func stepTableSpec(t *testing.T) (templatedir.Spec, map[string]string) {
	t.Helper()
	spec := roundTripSpec(t)
	applied := map[string]string{"package:apt:base": "old-bucket", "script:10-user.sh": "old-script", "file:/opt/blob": "old-file"}
	return spec, applied
}

// readerScript is the agent without its last line (the call of _a_main),
// then a loop printing every column of every row as "<name>=<value>" the
// way the agent's own reader sees it.
func readerScript(t *testing.T) string {
	t.Helper()
	const call = "\n_a_main \"$@\"\n"
	if !strings.HasSuffix(agentScript, call) {
		t.Fatalf("the agent does not end by calling _a_main")
	}
	var loop strings.Builder
	loop.WriteString("exec 9<\"$1\"\nwhile _a_read_step; do\n")
	for _, c := range stepColumns {
		loop.WriteString("\tprintf '%s=%s\\n' " + c.name + " \"$_a_step_" + c.name + "\"\n")
	}
	loop.WriteString("\techo --\ndone\n")
	return strings.TrimSuffix(agentScript, call) + "\n" + loop.String()
}

// readSteps runs the agent's reader on a steps table with shell.
func readSteps(t *testing.T, shell testShell, table string) (stdout string, code int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "steps")
	if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shell.sh, "-c", readerScript(t), "lxctm-agent-reader", path) //nolint:gosec // the test's own script
	cmd.Env = []string{"PATH=" + shell.path}
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// TestAgentStepTableRoundTrip writes a steps table row for every step kind
// in Go and reads it back with the agent's reader, under every test shell:
// each column arrives in its variable, "-" where the kind has no value and
// empty for an optional value that is empty.
func TestAgentStepTableRoundTrip(t *testing.T) {
	spec, applied := stepTableSpec(t)
	r := newRun(t, Request{Spec: spec, Applied: applied, Create: true})
	in := decodeStdin(t, r)
	var want strings.Builder
	kinds := map[string]bool{}
	for i, s := range r.steps {
		kinds[s.kind] = true
		for _, c := range stepColumns {
			v := "-"
			if c.appliesTo(s.kind) {
				v = c.value(s, i+1)
				if v == "" && !c.optional {
					t.Fatalf("%s has no %s", s.key, c.name)
				}
			}
			want.WriteString(c.name + "=" + v + "\n")
		}
		want.WriteString("--\n")
	}
	if len(kinds) != 3 || !strings.Contains(want.String(), "applied=\n") || !strings.Contains(want.String(), "applied=old-file\n") {
		t.Fatalf("the spec must give rows of every kind, with and without an applied digest:\n%s", want.String())
	}
	for _, shell := range localShells(t) {
		t.Run(shell.name, func(t *testing.T) {
			got, code := readSteps(t, shell, in.files["steps"])
			if code != 0 || got != want.String() {
				t.Errorf("exit %d; the agent read\n%s\nGo wrote\n%s", code, got, want.String())
			}
		})
	}
}

// TestAgentRefusesOtherStepColumns: a row with a value more or less than
// the agent reads is a fatal error, not a silently shifted step.
func TestAgentRefusesOtherStepColumns(t *testing.T) {
	spec, applied := stepTableSpec(t)
	rows := strings.Split(strings.TrimSuffix(decodeStdin(t, newRun(t, Request{Spec: spec, Applied: applied, Create: true})).files["steps"], "\n"), "\n")
	row := rows[len(rows)-1]
	shell := localShells(t)[0]
	for name, table := range map[string]string{
		"a value more":  row + "\textra\n",
		"a value fewer": row[:strings.LastIndex(row, "\t")] + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			out, code := readSteps(t, shell, table)
			if code != 2 || !strings.Contains(out, `"fatal":"step 9: the steps table does not have the columns this agent reads; provider and agent disagree"`) {
				t.Errorf("exit %d, output %q", code, out)
			}
		})
	}
}

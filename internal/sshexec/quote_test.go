package sshexec

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"pct", "pct"},
		{"/usr/sbin/pct", "/usr/sbin/pct"},
		{"--keep-env", "--keep-env"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"$(id)", "'$(id)'"},
		{"`id`", "'`id`'"},
		{"*", "'*'"},
		{"~root", "'~root'"},
		{"A=b", "'A=b'"},
		{"line1\nline2", "'line1\nline2'"},
		{`back\slash`, `'back\slash'`},
		{"ünïcode", "'ünïcode'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPctExec(t *testing.T) {
	got := PctExec(101, "sh", "-c", "echo hi")
	want := []string{"pct", "exec", "101", "--", "sh", "-c", "echo hi"}
	if !slices.Equal(got, want) {
		t.Errorf("PctExec = %q, want %q", got, want)
	}
}

// nastyArgs are arguments a shell would mangle if quoting were wrong.
var nastyArgs = []string{
	"plain",
	"with space",
	"  leading and trailing  ",
	"",
	"it's",
	`"double"`,
	`'`,
	`''`,
	"$(touch /tmp/sshexec-pwned)",
	"${HOME}",
	"$HOME",
	"`id`",
	"line1\nline2\n",
	"tab\there",
	"*",
	"?",
	"[a-z]",
	"~",
	"~root",
	"a;b",
	"a|b",
	"a&&b",
	"a>b",
	"<in",
	"(sub)",
	"{x,y}",
	"#comment",
	`back\slash`,
	`\`,
	"FOO=bar",
	"!history",
	"ünïcode ✓",
	"-n",
	"--",
}

// TestQuoteRoundTripsThroughShell checks the quoting against a real POSIX
// shell: printf receives exactly the original arguments.
func TestQuoteRoundTripsThroughShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine:", err)
	}
	line := commandLine(append([]string{"printf", `%s\0`}, nastyArgs...))
	out, err := exec.CommandContext(t.Context(), sh, "-c", line).Output()
	if err != nil {
		t.Fatalf("sh -c: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, nastyArgs) {
		t.Errorf("the shell received\n%q\nwant\n%q", got, nastyArgs)
	}
}

// TestQuoteRoundTripsThroughPctExec sends the nasty arguments through SSH
// and pct exec: the container receives exactly the original argv.
func TestQuoteRoundTripsThroughPctExec(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	for _, arg := range nastyArgs {
		argv := []string{sshnodetest.ArgvRecord, arg, "after"}
		mustRun(t, c, Command{Argv: PctExec(testVMID, argv...)})
		if got := n.Host.LastCall(t).Argv; !slices.Equal(got, argv) {
			t.Errorf("argument %q: the container received %q, want %q", arg, got, argv)
		}
	}
	// All at once, too.
	argv := append([]string{sshnodetest.ArgvRecord}, nastyArgs...)
	mustRun(t, c, Command{Argv: PctExec(testVMID, argv...)})
	if got := n.Host.LastCall(t).Argv; !slices.Equal(got, argv) {
		t.Errorf("the container received\n%q\nwant\n%q", got, argv)
	}
}

func TestRunRefusesBadArgv(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	for _, argv := range [][]string{nil, {""}, {"echo", "a\x00b"}} {
		if _, err := c.Run(t.Context(), testNodeName, Command{Argv: argv}); err == nil {
			t.Errorf("Run(%q) succeeded", argv)
		}
	}
	if got := n.Accepted(); got != 0 {
		t.Errorf("bad argv still dialled the node %d times", got)
	}
}

func TestCommandSummary(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{PctExec(101, "sh", "-c", "secret script"), "pct exec 101 -- sh"},
		{[]string{"pct", "status", "101"}, "pct status 101"},
		{[]string{"pct", "list"}, "pct list"},
		{[]string{"chpasswd", "root:hunter2"}, "chpasswd"},
		{[]string{strings.Repeat("x", 100)}, strings.Repeat("x", 40) + "…"},
	}
	for _, tt := range tests {
		if got := commandSummary(tt.argv); got != tt.want {
			t.Errorf("commandSummary(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}

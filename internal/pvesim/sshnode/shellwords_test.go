package sshnode

import (
	"slices"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

func TestSplitCommandLineWords(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"pct list", []string{"pct", "list"}},
		{"  pct \t list  ", []string{"pct", "list"}},
		{"", nil},
		{"   ", nil},
		{`pct exec 101 -- sh -c 'echo "a b" $HOME; exit 3'`, []string{"pct", "exec", "101", "--", "sh", "-c", `echo "a b" $HOME; exit 3`}},
		{`echo 'it'\''s'`, []string{"echo", "it's"}},
		{`echo ''`, []string{"echo", ""}},
		{`echo ""`, []string{"echo", ""}},
		{`echo a''b`, []string{"echo", "ab"}},
		{`echo "a\"b\\c\$d\` + "`" + `e\xf"`, []string{"echo", "a\"b\\c$d`e\\xf"}},
		{`echo a\ b\'c\"d\\e`, []string{"echo", `a b'c"d\e`}},
		{"echo a\\\nb", []string{"echo", "ab"}},
		{"echo \"a\\\nb\"", []string{"echo", "ab"}},
		{"echo 'line\nbreak'", []string{"echo", "line\nbreak"}},
		{`echo trailing\`, []string{"echo", `trailing\`}},
		{`echo "cost: 5$" $ a$ "$ x"`, []string{"echo", "cost: 5$", "$", "a$", "$ x"}},
		{`echo a#b # a comment`, []string{"echo", "a#b"}},
		{`echo x=1`, []string{"echo", "x=1"}},
		{`'FOO=bar' x`, []string{"FOO=bar", "x"}},
		{`echo a~b`, []string{"echo", "a~b"}},
		{`echo ünï "cødé"`, []string{"echo", "ünï", "cødé"}},
		{`echo "*?[|;&<>()~#"`, []string{"echo", "*?[|;&<>()~#"}},
		{`echo '$(id) ${x} $x'`, []string{"echo", "$(id) ${x} $x"}},
	}
	for _, tt := range tests {
		got, err := splitCommandLine(tt.line)
		if err != nil {
			t.Errorf("splitCommandLine(%q): %s", tt.line, err.message)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("splitCommandLine(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestSplitCommandLineRefusals(t *testing.T) {
	tests := []struct {
		line     string
		code     int
		contains string
	}{
		{"pct list | cat", 127, "'|' (pipelines)"},
		{"pct list; ls", 127, "command lists"},
		{"pct list && ls", 127, "command lists"},
		{"pct list &", 127, "command lists"},
		{"pct list\nls", 127, "command lists"},
		{"pct list > /tmp/out", 127, "redirections"},
		{"pct push 101 a b < x", 127, "redirections"},
		{"(pct list)", 127, "subshells"},
		{"echo $(id)", 127, "expansions"},
		{"echo ${HOME}", 127, "expansions"},
		{"echo $HOME", 127, "expansions"},
		{`echo "$HOME"`, 127, "expansions"},
		{`echo "$(id)"`, 127, "expansions"},
		{"echo `id`", 127, "command substitution"},
		{"echo \"`id`\"", 127, "command substitution"},
		{`echo $'a\nb'`, 127, "expansions"},
		{"ls *.conf", 127, "pathname expansion"},
		{"ls file?", 127, "pathname expansion"},
		{"ls [ab]", 127, "pathname expansion"},
		{"ls ~", 127, "tilde expansion"},
		{"FOO=bar pct list", 127, "variable assignments"},
		{"echo 'open", 2, "bash: -c: line 1: unexpected EOF while looking for matching `''"},
		{`echo "open`, 2, "bash: -c: line 1: unexpected EOF while looking for matching `\"'"},
	}
	for _, tt := range tests {
		words, err := splitCommandLine(tt.line)
		if err == nil {
			t.Errorf("splitCommandLine(%q) = %q, want refusal", tt.line, words)
			continue
		}
		if err.exitCode != tt.code || !strings.Contains(err.message, tt.contains) {
			t.Errorf("splitCommandLine(%q) = %d %q, want %d and %q", tt.line, err.exitCode, err.message, tt.code, tt.contains)
		}
		if tt.code == 127 && !strings.Contains(err.message, "not supported by the simulated node") {
			t.Errorf("splitCommandLine(%q) message %q does not say it is unsupported", tt.line, err.message)
		}
	}
}

// TestSplitCommandLineUndoesShellQuote checks the splitter against the
// quoting the provider uses: every string comes back as one word.
func TestSplitCommandLineUndoesShellQuote(t *testing.T) {
	args := []string{
		"plain", "with space", "it's", `say "hi"`, `back\slash`, "tab\tand\nnewline",
		"$HOME $(id) `id`", "*?[]~#", "", "--", "'", `'\''`, "ünïcødé",
	}
	line := "pct exec 101 --"
	for _, a := range args {
		line += " " + sshexec.Quote(a)
	}
	got, err := splitCommandLine(line)
	if err != nil {
		t.Fatal(err.message)
	}
	want := append([]string{"pct", "exec", "101", "--"}, args...)
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func FuzzSplitCommandLineQuotedRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a b", "it's", `"\`, "$(x)", "\n"} {
		f.Add(s, "second")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := splitCommandLine("cmd " + sshexec.Quote(a) + " " + sshexec.Quote(b))
		if err != nil {
			t.Fatalf("quoted words refused: %s", err.message)
		}
		if !slices.Equal(got, []string{"cmd", a, b}) {
			t.Fatalf("got %q, want [cmd %q %q]", got, a, b)
		}
	})
}

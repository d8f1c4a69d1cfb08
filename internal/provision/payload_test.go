package provision

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// decodedStdin is the agent's stdin taken apart the way the agent reads it.
type decodedStdin struct {
	header string
	files  map[string]string
	order  []string
	// steps are the rows of the steps table, by column name.
	steps []map[string]string
}

func decodeStdin(t *testing.T, r *Run) decodedStdin {
	t.Helper()
	in, err := r.Stdin()
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(in)
	var d decodedStdin
	d.header, err = br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	d.header = strings.TrimSuffix(d.header, "\n")
	tr := tar.NewReader(br)
	d.files = map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		d.files[h.Name] = string(data)
		d.order = append(d.order, h.Name)
	}
	if rest, _ := io.ReadAll(br); len(bytes.Trim(rest, "\x00")) != 0 {
		t.Errorf("bytes after the tar: %q", rest)
	}
	d.steps = parseStepsTable(t, d.files["steps"])
	return d
}

// parseStepsTable splits the steps table into rows by column name,
// failing on a row with the wrong number of values or an empty one (the
// shell's read would shift the rest).
func parseStepsTable(t *testing.T, table string) []map[string]string {
	t.Helper()
	if table == "" {
		return nil
	}
	if !strings.HasSuffix(table, "\n") {
		t.Fatalf("the steps table does not end with a newline: %q", table)
	}
	var rows []map[string]string
	for i, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n") {
		values := strings.Split(line, "\t")
		if len(values) != len(stepColumns) {
			t.Fatalf("steps line %d has %d values, want %d: %q", i+1, len(values), len(stepColumns), line)
		}
		row := map[string]string{}
		for j, c := range stepColumns {
			if values[j] == "" {
				t.Errorf("steps line %d: %s is empty (the shell's read would shift the rest): %q", i+1, c.name, line)
			}
			row[c.name] = values[j]
		}
		rows = append(rows, row)
	}
	return rows
}

// orDash is a steps table value: "-" for an empty one.
func orDash(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

// roundTripSpec is baseSpec with a non-ASCII name and a binary file.
func roundTripSpec(t *testing.T) templatedir.Spec {
	t.Helper()
	spec := baseSpec(t)
	spec.Name = "dév-box 🚀"
	spec.Files = append(spec.Files, templatedir.File{Name: "blob", TargetPath: "/opt", Policy: "replace", Mode: "755", ContentBase64: "AP8Q"})
	return spec
}

func TestStdinRoundTrip(t *testing.T) {
	spec := roundTripSpec(t)
	applied := Desired(spec)
	applied["script:10-user.sh"] = "old"
	r := newRun(t, Request{Spec: spec, Applied: applied, Hostname: "ct1"})
	d := decodeStdin(t, r)

	if d.header != "LXCTM-AGENT 3" {
		t.Errorf("header %q", d.header)
	}
	if d.files["meta/template"] != "dév-box 🚀" || d.files["meta/hostname"] != "ct1" || d.files["meta/mode"] != "apply" {
		t.Errorf("meta files %q %q %q", d.files["meta/template"], d.files["meta/hostname"], d.files["meta/mode"])
	}
	if d.files["helpers.sh"] != helpersScript || d.files["esc.sed"] != jsonEscapeSed() {
		t.Error("helpers.sh and esc.sed must be in the payload")
	}
	if len(d.steps) != len(Desired(spec)) {
		t.Errorf("the steps table has %d rows for %d steps", len(d.steps), len(Desired(spec)))
	}

	first, err := r.Stdin()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := r.Stdin()
	a, _ := io.ReadAll(first)
	b, _ := io.ReadAll(again)
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Error("Stdin must return the same bytes on every call")
	}
	c, _ := newRun(t, Request{Spec: spec, Applied: applied, Hostname: "ct1"}).Stdin()
	cb, _ := io.ReadAll(c)
	if !bytes.Equal(a, cb) {
		t.Error("the same request must give the same stream")
	}
}

func TestStdinStepsTable(t *testing.T) {
	spec := roundTripSpec(t)
	applied := Desired(spec)
	applied["script:10-user.sh"] = "old"
	applied["file:/opt/blob"] = "old"
	delete(applied, "file:/home/dev/.bashrc")
	r := newRun(t, Request{Spec: spec, Applied: applied, Hostname: "ct1"})
	d := decodeStdin(t, r)

	if steps := r.Steps(); fmt.Sprint(steps) != "[script:10-user.sh file:/home/dev/.bashrc file:/opt/blob]" {
		t.Fatalf("steps %v", steps)
	}
	desired := Desired(spec)
	for i, row := range d.steps {
		key := row["key"]
		if row["index"] != strconv.Itoa(i+1) || row["digest"] != desired[key] || row["applied"] != orDash(applied[key]) {
			t.Errorf("steps row %d: %v", i+1, row)
		}
		payload := map[string]string{"package": "p/", "script": "s/", "file": "f/"}[row["kind"]] + row["index"]
		if row["kind"] == KindScript {
			payload += "/" + row["script"]
		}
		_, has := d.files[payload]
		if has != (row["action"] == actionRun) {
			t.Errorf("%s (%s): payload %s present %v", key, row["action"], payload, has)
		}
	}
	want := map[int]string{
		1: "map[action:skip applied:" + desired["package:apt:base"] + " bucket:base content_sha256:- digest:" + desired["package:apt:base"] + " index:1 key:package:apt:base kind:package manager:apt mode:- policy:- script:- target:-]",
		5: "map[action:run applied:old bucket:- content_sha256:- digest:" + desired["script:10-user.sh"] + " index:5 key:script:10-user.sh kind:script manager:- mode:- policy:- script:10-user.sh target:-]",
		7: "map[action:run applied:- bucket:- content_sha256:" + sha256hex("PS1=x\n") + " digest:" + desired["file:/home/dev/.bashrc"] + " index:7 key:file:/home/dev/.bashrc kind:file manager:- mode:0644 policy:default script:- target:/home/dev/.bashrc]",
		9: "map[action:run applied:old bucket:- content_sha256:" + sha256hex("\x00\xff\x10") + " digest:" + desired["file:/opt/blob"] + " index:9 key:file:/opt/blob kind:file manager:- mode:0755 policy:replace script:- target:/opt/blob]",
	}
	for index, w := range want {
		if got := fmt.Sprint(d.steps[index-1]); got != w {
			t.Errorf("steps row %d:\n%s\nwant\n%s", index, got, w)
		}
	}
	if d.files["s/5/10-user.sh"] != "useradd dev\n" || d.files["f/9"] != "\x00\xff\x10" {
		t.Errorf("payloads s/5/10-user.sh %q, f/9 %q", d.files["s/5/10-user.sh"], d.files["f/9"])
	}
}

func TestStdinPackagePayloads(t *testing.T) {
	spec := baseSpec(t)
	spec.Packages = append(spec.Packages, custom("tools", "second", "test -f /x", "a | b", 0))
	r := newRun(t, Request{Spec: spec, Create: true})
	d := decodeStdin(t, r)
	want := map[string]string{
		"p/1":         "curl\tcurl\t-\nnodejs=18.*\tnodejs\t18.*\n",
		"p/2":         "typescript@5.4.5\ttypescript\t5.4.5\n",
		"p/3":         "requests>=2.28\trequests\t>=2.28\n",
		"p/4":         "starship\t600\nsecond\t0\n",
		"p/4.1.check": "command -v starship", "p/4.1.install": "curl -fsSL https://x/install.sh | sh",
		"p/4.2.check": "test -f /x", "p/4.2.install": "a | b",
	}
	for name, content := range want {
		if d.files[name] != content {
			t.Errorf("%s = %q, want %q", name, d.files[name], content)
		}
	}
	if row := d.steps[0]; row["key"] != "package:apt:base" || row["action"] != "run" || row["manager"] != "apt" || row["bucket"] != "base" {
		t.Errorf("first step %v", row)
	}
}

func TestStdinCheckMode(t *testing.T) {
	spec := baseSpec(t)
	d := decodeStdin(t, NewCheck(spec, nil))
	if d.files["meta/mode"] != "check" {
		t.Errorf("mode %q", d.files["meta/mode"])
	}
	var keys []string
	for _, row := range d.steps {
		keys = append(keys, row["key"]+"="+row["action"])
	}
	want := "[package:apt:base=check package:npm:base=check package:pip:py=check package:custom:tools=check file:/etc/app/app.conf=check]"
	if fmt.Sprint(keys) != want {
		t.Errorf("check steps %v, want %s", keys, want)
	}
	for name := range d.files {
		if (strings.HasPrefix(name, "f/") || strings.HasPrefix(name, "s/")) && !strings.HasSuffix(name, "/") {
			t.Errorf("a check carries no file or script content, got %s", name)
		}
	}
}

func TestAgentFitsInOneArgument(t *testing.T) {
	// Linux limits one argv string to 128 KiB (MAX_ARG_STRLEN); keep a
	// margin for the quoting the node's shell needs.
	if n := len(agentScript); n > 96<<10 {
		t.Errorf("the agent is %d bytes; it must stay well under 128 KiB to pass as one argument", n)
	}
	argv := (&Run{}).Argv()
	if len(argv) != 4 || argv[0] != "/bin/sh" || argv[1] != "-c" || argv[2] != agentScript || argv[3] != "lxctm-agent" {
		t.Errorf("argv %q", argv[:2])
	}
}

// TestAgentFragments: every shell file of agent/ but the helpers and the
// generalisation script (GeneralizeArgv) is a fragment of the agent, and
// each ends with a newline, so that joining them never glues two lines
// together.
func TestAgentFragments(t *testing.T) {
	all, err := fs.Glob(agentFiles, "agent/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	fragments := 0
	for _, name := range all {
		if name == "agent/helpers.sh" || name == "agent/generalize.sh" {
			continue
		}
		if base := path.Base(name); base[0] < '0' || base[0] > '9' {
			t.Errorf("%s is neither helpers.sh nor a fragment (agent/[0-9]*.sh): the agent would not include it", name)
		}
		fragments++
		if text := mustReadAgentFile(agentFiles, name); !strings.HasSuffix(text, "\n") {
			t.Errorf("%s does not end with a newline", name)
		}
	}
	if fragments < 2 || !strings.HasPrefix(agentScript, "# shellcheck shell=sh\n") {
		t.Errorf("the agent has %d fragments and starts with %q", fragments, agentScript[:min(len(agentScript), 40)])
	}
}

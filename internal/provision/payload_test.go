package provision

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// decodedStdin is the agent's stdin taken apart the way the agent reads it.
type decodedStdin struct {
	header   string
	manifest manifest
	rawJSON  string
	files    map[string]string
	order    []string
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
	fields := strings.Fields(d.header)
	if len(fields) != 3 || fields[0] != "LXCTM-AGENT" || fields[1] != "1" {
		t.Fatalf("header %q", d.header)
	}
	n, err := strconv.Atoi(fields[2])
	if err != nil {
		t.Fatal(err)
	}
	d.rawJSON, err = br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	d.rawJSON = strings.TrimSuffix(d.rawJSON, "\n")
	if len(d.rawJSON) != n {
		t.Fatalf("manifest is %d bytes, header says %d", len(d.rawJSON), n)
	}
	for i := 0; i < len(d.rawJSON); i++ {
		if d.rawJSON[i] >= 0x80 || d.rawJSON[i] < 0x20 {
			t.Fatalf("manifest byte %d is %#x: it must be printable ASCII", i, d.rawJSON[i])
		}
	}
	if err := json.Unmarshal([]byte(d.rawJSON), &d.manifest); err != nil {
		t.Fatal(err)
	}
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
	return d
}

func TestStdinRoundTrip(t *testing.T) {
	spec := baseSpec(t)
	spec.Name = "dév-box 🚀"
	spec.Files = append(spec.Files, templatedir.File{Name: "blob", TargetPath: "/opt", Policy: "replace", Mode: "755", ContentBase64: "AP8Q"})
	applied := Desired(spec)
	applied["script:10-user.sh"] = "old"
	applied["file:/opt/blob"] = "old"
	r := newRun(t, Request{Spec: spec, Applied: applied, Hostname: "ct1"})
	d := decodeStdin(t, r)

	if d.manifest.Template != "dév-box 🚀" || d.manifest.Hostname != "ct1" || d.manifest.Mode != "apply" || d.manifest.Rerun != "changed" {
		t.Errorf("manifest %+v", d.manifest)
	}
	if !strings.Contains(d.rawJSON, `d\u00e9v-box \ud83d\ude80`) {
		t.Errorf("non-ASCII should be \\u-escaped in the manifest: %s", d.rawJSON)
	}
	if d.files["meta/template"] != "dév-box 🚀" || d.files["meta/hostname"] != "ct1" || d.files["meta/mode"] != "apply" {
		t.Errorf("meta files %q %q %q", d.files["meta/template"], d.files["meta/hostname"], d.files["meta/mode"])
	}
	if d.files["helpers.sh"] != helpersScript || d.files["esc.sed"] != jsonEscapeSed() {
		t.Error("helpers.sh and esc.sed must be in the payload")
	}

	desired := Desired(spec)
	var wantLines []string
	for i, e := range d.manifest.Steps {
		if e.Index != i+1 || e.SHA256 != desired[e.Step] || e.Applied != applied[e.Step] {
			t.Errorf("manifest step %+v", e)
		}
	}
	steps := r.Steps()
	if len(steps) != 2 || steps[0] != "script:10-user.sh" || steps[1] != "file:/opt/blob" {
		t.Fatalf("steps %v", steps)
	}
	for i, e := range d.manifest.Steps {
		line := strings.Split(strings.Split(d.files["steps"], "\n")[i], "\t")
		if len(line) != 9 || line[0] != strconv.Itoa(i+1) || line[1] != e.Kind || line[2] != e.Action || line[3] != e.Step || line[4] != e.SHA256 || line[5] != e.Applied {
			t.Errorf("steps line %d: %q for %+v", i+1, line, e)
		}
		for _, f := range line {
			if f == "" {
				t.Errorf("steps line %d has an empty field (the shell's read would shift the rest): %q", i+1, line)
			}
		}
		wantLines = append(wantLines, strings.Join(line, "\t"))
	}
	if d.files["steps"] != strings.Join(wantLines, "\n")+"\n" {
		t.Errorf("steps file:\n%s", d.files["steps"])
	}
	for i, e := range d.manifest.Steps {
		payload := map[string]string{"package": "p/", "script": "s/", "file": "f/"}[e.Kind] + strconv.Itoa(i+1)
		if e.Kind == KindScript {
			payload += "/" + strings.TrimPrefix(e.Step, "script:")
		}
		_, has := d.files[payload]
		if has != (e.Action == actionRun) {
			t.Errorf("%s (%s): payload present %v", e.Step, e.Action, has)
		}
	}
	scriptLine := strings.Split(strings.Split(d.files["steps"], "\n")[4], "\t")
	if scriptLine[3] != "script:10-user.sh" || scriptLine[6] != "10-user.sh" || d.files["s/5/10-user.sh"] != "useradd dev\n" {
		t.Errorf("script step %q, payload %q", scriptLine, d.files["s/5/10-user.sh"])
	}
	blobLine := strings.Split(strings.Split(d.files["steps"], "\n")[8], "\t")
	if blobLine[3] != "file:/opt/blob" || blobLine[6] != "replace" || blobLine[7] != "0755" || blobLine[8] != sha256hex("\x00\xff\x10") || d.files["f/9"] != "\x00\xff\x10" {
		t.Errorf("file step %q, payload %q", blobLine, d.files["f/9"])
	}

	again, err := r.Stdin()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.Stdin()
	a, _ := io.ReadAll(first)
	b, _ := io.ReadAll(again)
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Error("Stdin must return the same bytes on every call")
	}
	r2 := newRun(t, Request{Spec: spec, Applied: applied, Hostname: "ct1"})
	c, _ := r2.Stdin()
	cb, _ := io.ReadAll(c)
	if !bytes.Equal(a, cb) {
		t.Error("the same request must give the same stream")
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
	if !strings.HasPrefix(d.files["steps"], "1\tpackage\trun\tpackage:apt:base\t") || !strings.Contains(d.files["steps"], "\tapt\tbase\t-\n") {
		t.Errorf("steps:\n%s", d.files["steps"])
	}
}

func TestStdinCheckMode(t *testing.T) {
	spec := baseSpec(t)
	d := decodeStdin(t, NewCheck(spec, nil))
	if d.manifest.Mode != "check" || d.files["meta/mode"] != "check" {
		t.Errorf("mode %q / %q", d.manifest.Mode, d.files["meta/mode"])
	}
	var keys []string
	for _, e := range d.manifest.Steps {
		keys = append(keys, e.Step+"="+e.Action)
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

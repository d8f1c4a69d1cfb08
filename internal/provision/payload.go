package provision

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// The agent's stdin: a header line "LXCTM-AGENT <protocol> <n>", an n-byte
// JSON manifest on one line (ASCII only, so the shell's character count is
// its byte count), a newline, then a tar. The manifest is for people
// reading a captured stream; the agent acts on the tar:
//
//	meta/mode, meta/template, meta/hostname   one value each
//	steps        one line per step, tab-separated:
//	             index kind action key digest applied arg1 arg2 arg3
//	             (empty values are "-"; args: package manager bucket -,
//	             script name - -, file policy mode content-sha256)
//	helpers.sh   the script helpers
//	esc.sed      the sed script escaping text for JSON strings
//	p/<index>    package rows "spec<TAB>name<TAB>version"; custom buckets
//	             "name<TAB>timeout" per row n with p/<index>.<n>.check and
//	             p/<index>.<n>.install holding the commands
//	s/<index>/<name>  a script, under its own name (for error messages)
//	f/<index>    a file's content
//
// Payloads are only sent for steps the agent runs (or checks).

// agentProtocol must equal _a_protocol in agent.sh.
const agentProtocol = 1

// manifest is the JSON header.
type manifest struct {
	Protocol int             `json:"protocol"`
	Mode     string          `json:"mode"`
	Template string          `json:"template"`
	Hostname string          `json:"hostname,omitempty"`
	Rerun    string          `json:"rerun,omitempty"`
	Create   bool            `json:"create,omitempty"`
	Steps    []manifestEntry `json:"steps"`
}

// manifestEntry describes one step in the JSON header.
type manifestEntry struct {
	Index   int    `json:"index"`
	Step    string `json:"step"`
	Kind    string `json:"kind"`
	Action  string `json:"action"`
	SHA256  string `json:"sha256"`
	Applied string `json:"applied,omitempty"`
}

// tarEpoch is every entry's modification time, so the stream is the same
// bytes for the same run.
var tarEpoch = time.Unix(0, 0).UTC()

// buildStdin writes the whole stream.
func (r *Run) buildStdin() ([]byte, error) {
	m := manifest{Protocol: agentProtocol, Mode: r.mode, Template: r.template, Hostname: r.hostname, Create: r.create, Steps: []manifestEntry{}}
	if r.mode == modeApply {
		m.Rerun = r.rerun
	}
	var steps strings.Builder
	payload := &tarBuilder{}
	payload.dir("meta")
	payload.file("meta/mode", []byte(r.mode))
	payload.file("meta/template", []byte(r.template))
	payload.file("meta/hostname", []byte(r.hostname))
	payload.file("helpers.sh", []byte(helpersScript))
	payload.file("esc.sed", []byte(jsonEscapeSed()))
	payload.dir("p")
	payload.dir("s")
	payload.dir("f")
	for i, s := range r.steps {
		index := i + 1
		m.Steps = append(m.Steps, manifestEntry{Index: index, Step: s.key, Kind: s.kind, Action: s.action, SHA256: s.digest, Applied: s.prev})
		args := [3]string{}
		switch s.kind {
		case KindPackage:
			args = [3]string{s.manager, s.bucket, ""}
		case KindScript:
			args = [3]string{s.script.Name, "", ""}
		case KindFile:
			args = [3]string{s.policy, s.mode, s.contentSHA}
		}
		fields := []string{strconv.Itoa(index), s.kind, s.action, s.key, s.digest, s.prev, args[0], args[1], args[2]}
		for j, f := range fields {
			if f == "" {
				fields[j] = "-"
			}
		}
		steps.WriteString(strings.Join(fields, "\t"))
		steps.WriteByte('\n')
		if s.action != actionSkip {
			s.writePayload(payload, index)
		}
	}
	payload.file("steps", []byte(steps.String()))
	if payload.err != nil {
		return nil, payload.err
	}
	if err := payload.w().Close(); err != nil {
		return nil, fmt.Errorf("provisioning payload: %w", err)
	}
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("provisioning manifest: %w", err)
	}
	js = asciiJSON(js)
	var out bytes.Buffer
	fmt.Fprintf(&out, "LXCTM-AGENT %d %d\n", agentProtocol, len(js))
	out.Write(js)
	out.WriteByte('\n')
	out.Write(payload.buf.Bytes())
	return out.Bytes(), nil
}

// writePayload adds what the agent needs to run or check the step.
func (s plannedStep) writePayload(t *tarBuilder, index int) {
	name := strconv.Itoa(index)
	switch s.kind {
	case KindPackage:
		var rows strings.Builder
		for n, p := range s.rows {
			if s.manager == templatedir.ManagerCustom {
				fmt.Fprintf(&rows, "%s\t%d\n", p.Spec, p.Timeout)
				t.file(fmt.Sprintf("p/%s.%d.check", name, n+1), []byte(p.Check))
				t.file(fmt.Sprintf("p/%s.%d.install", name, n+1), []byte(p.Install))
				continue
			}
			pkgName, version := p.Name, p.Version
			if pkgName == "" {
				pkgName = p.Spec
			}
			if version == "" {
				version = "-"
			}
			fmt.Fprintf(&rows, "%s\t%s\t%s\n", p.Spec, pkgName, version)
		}
		t.file("p/"+name, []byte(rows.String()))
	case KindScript:
		t.dir("s/" + name)
		t.file("s/"+name+"/"+s.script.Name, []byte(s.script.Content))
	case KindFile:
		if s.action == actionRun {
			t.file("f/"+name, s.content)
		}
	}
}

// tarBuilder writes a deterministic tar into memory, keeping the first
// error.
type tarBuilder struct {
	buf bytes.Buffer
	tw  *tar.Writer
	err error
}

func (t *tarBuilder) w() *tar.Writer {
	if t.tw == nil {
		t.tw = tar.NewWriter(&t.buf)
	}
	return t.tw
}

func (t *tarBuilder) dir(name string) {
	t.add(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o700, ModTime: tarEpoch}, nil)
}

func (t *tarBuilder) file(name string, data []byte) {
	t.add(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: tarEpoch}, data)
}

func (t *tarBuilder) add(h *tar.Header, data []byte) {
	if t.err != nil {
		return
	}
	if err := t.w().WriteHeader(h); err != nil {
		t.err = fmt.Errorf("provisioning payload %s: %w", h.Name, err)
		return
	}
	if _, err := t.w().Write(data); err != nil {
		t.err = fmt.Errorf("provisioning payload %s: %w", h.Name, err)
	}
}

// jsonEscapeSed is the sed script the agent runs text through before
// putting it in a JSON string: backslash and quote escaped, every control
// character but newline (sed's line separator) as \u00XX. Other bytes pass
// through; ParseReport's decoder replaces invalid UTF-8.
func jsonEscapeSed() string {
	var b strings.Builder
	b.WriteString("s/\\\\/\\\\\\\\/g\n")
	b.WriteString("s/\"/\\\\\"/g\n")
	for c := byte(1); c < 0x20; c++ {
		if c == '\n' {
			continue
		}
		fmt.Fprintf(&b, "s/%c/\\\\u%04x/g\n", c, c)
	}
	return b.String()
}

// asciiJSON escapes every non-ASCII character of encoded JSON as \uXXXX
// (a surrogate pair above the BMP). Non-ASCII only occurs inside strings,
// where the escape means the same.
func asciiJSON(js []byte) []byte {
	var out bytes.Buffer
	for len(js) > 0 {
		r, size := utf8.DecodeRune(js)
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(js[0])
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		js = js[size:]
	}
	return out.Bytes()
}

// newBytesReader is a reader over data.
func newBytesReader(data []byte) io.Reader { return bytes.NewReader(data) }

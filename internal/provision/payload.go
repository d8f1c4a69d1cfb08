package provision

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// The agent's stdin: a header line "LXCTM-AGENT <protocol>", then a tar
// that the agent unpacks into its work directory:
//
//	meta/mode, meta/template, meta/hostname   one value each
//	meta/clone   "1" for a clone's first run (its identity is regenerated
//	             first), else "0"
//	steps        the steps table: one line per step (steptable.go)
//	helpers.sh   the script helpers
//	esc.sed      the sed script escaping text for JSON strings
//	p/<index>    a bucket's rows, "spec<TAB>name<TAB>version" each; for a
//	             custom bucket "name<TAB>timeout" for each row n, with
//	             p/<index>.<n>.check and p/<index>.<n>.install holding the
//	             commands
//	s/<index>/<name>  a script, under its own name (for error messages)
//	f/<index>    a file's content
//
// Payloads are only sent for steps the agent runs (or checks). Everything
// travels in this one stream, so a run is one `pct exec` whatever the
// number of steps.

// agentProtocol names the stdin format; it must equal _a_protocol in
// agent/10-prelude.sh.
const agentProtocol = 3

// tarEpoch is every entry's modification time, so the stream is the same
// bytes for the same run.
var tarEpoch = time.Unix(0, 0).UTC()

// buildStdin writes the whole stream.
func (r *Run) buildStdin() ([]byte, error) {
	payload := &tarBuilder{}
	payload.dir("meta")
	payload.file("meta/mode", []byte(r.mode))
	payload.file("meta/template", []byte(r.template))
	payload.file("meta/hostname", []byte(r.hostname))
	payload.file("meta/clone", []byte(r.cloneFlag()))
	payload.file("helpers.sh", []byte(helpersScript))
	payload.file("esc.sed", []byte(jsonEscapeSed()))
	payload.dir("p")
	payload.dir("s")
	payload.dir("f")
	var table strings.Builder
	for i, s := range r.steps {
		index := i + 1
		row, err := stepRow(s, index)
		if err != nil {
			return nil, err
		}
		table.WriteString(row)
		table.WriteByte('\n')
		if s.action == actionRun || s.action == actionCheck {
			s.writePayload(payload, index)
		}
	}
	payload.file("steps", []byte(table.String()))
	if payload.err != nil {
		return nil, payload.err
	}
	if err := payload.w().Close(); err != nil {
		return nil, fmt.Errorf("provisioning payload: %w", err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "LXCTM-AGENT %d\n", agentProtocol)
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
		if s.compact {
			t.fail(s.notLoaded())
			return
		}
		t.dir("s/" + name)
		t.file("s/"+name+"/"+s.script.Name, []byte(s.script.Content))
	case KindFile:
		if s.action == actionRun && s.compact {
			t.fail(s.notLoaded())
			return
		}
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

// fail records err as the builder's error, unless it has one already.
func (t *tarBuilder) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// notLoaded is the error for running a step whose content was never read.
func (s plannedStep) notLoaded() error {
	return fmt.Errorf("provisioning %s: its content was not loaded; the provider reads it from the template directory (templatedir.LoadContent) before provisioning", s.key)
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

// newBytesReader is a reader over data.
func newBytesReader(data []byte) io.Reader { return bytes.NewReader(data) }

package provision

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

const goodStream = `{"agent":"lxctm-agent","protocol":3,"mode":"apply"}
[package:apt:base] installing: curl
{"step":"package:apt:base","kind":"package","status":"changed","exit":0,"output_tail":[],"sha256":"aaa","message":"installed curl"}
[script:10-user.sh] [2026-01-02 03:04:05] [INFO   ] Created user dev
{"step":"script:10-user.sh","kind":"script","status":"ok","exit":0,"output_tail":[],"sha256":"bbb","message":"script exited with status 0"}
{"step":"script:20-x.sh","kind":"script","status":"skipped","exit":0,"output_tail":[],"sha256":"ccc","message":"unchanged since it was last applied"}
{"step":"file:/etc/new","kind":"file","status":"skipped","exit":0,"output_tail":[],"sha256":"","message":"unchanged since it was last applied"}
{"service":"nginx","port":80,"url":"http://10.0.0.5:80"}
{"service":"worker","port":0,"url":""}
{"credential":"nginx","key":"ADMIN","value":"p\"a\\ss\u0001"}
{"credential":"nginx","key":"USER","value":"admin"}
{"done":true,"status":"ok"}
`

func TestParseReportGood(t *testing.T) {
	var progress []string
	rep, err := ParseReport(strings.NewReader(goodStream), func(l string) { progress = append(progress, l) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() != nil || rep.Interrupted || rep.Failed != nil || rep.Fatal != "" {
		t.Fatalf("report %+v, err %v", rep, rep.Err())
	}
	wantProgress := []string{"[package:apt:base] installing: curl", "[script:10-user.sh] [2026-01-02 03:04:05] [INFO   ] Created user dev"}
	if !slices.Equal(progress, wantProgress) {
		t.Errorf("progress %q", progress)
	}
	if len(rep.Steps) != 4 || fmt.Sprintf("%+v", rep.Steps[1]) != fmt.Sprintf("%+v", StepResult{Step: "script:10-user.sh", Kind: "script", Status: "ok", OutputTail: []string{}, SHA256: "bbb", Message: "script exited with status 0"}) {
		t.Errorf("steps %+v", rep.Steps)
	}
	wantApplied := map[string]string{"package:apt:base": "aaa", "script:10-user.sh": "bbb", "script:20-x.sh": "ccc"}
	if fmt.Sprint(rep.Applied) != fmt.Sprint(wantApplied) {
		t.Errorf("applied %v", rep.Applied)
	}
	if fmt.Sprint(rep.Services) != "[{nginx 80 http://10.0.0.5:80} {worker 0 }]" {
		t.Errorf("services %v", rep.Services)
	}
	if rep.Credentials["nginx"]["ADMIN"] != "p\"a\\ss\x01" || rep.Credentials["nginx"]["USER"] != "admin" || len(rep.Credentials) != 1 {
		t.Errorf("credentials %q", rep.Credentials)
	}
}

func TestParseReportFailed(t *testing.T) {
	stream := `{"agent":"lxctm-agent","protocol":3,"mode":"apply"}
{"step":"package:apt:base","kind":"package","status":"ok","exit":0,"output_tail":[],"sha256":"aaa","message":"all 1 packages already installed"}
{"step":"script:10-user.sh","kind":"script","status":"failed","exit":3,"output_tail":["useradd: group 'dev' exists","boom \u001b[31m"],"sha256":"","message":"script exited with status 3"}
{"step":"file:/etc/x","kind":"file","status":"skipped","exit":0,"output_tail":[],"sha256":"old","message":"not run: provisioning stopped at script:10-user.sh"}
{"done":true,"status":"failed","failed":"script:10-user.sh"}
`
	rep, err := ParseReport(strings.NewReader(stream), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed == nil || rep.Failed.Step != "script:10-user.sh" || rep.Failed.Exit != 3 || rep.Interrupted {
		t.Fatalf("failed %+v interrupted %v", rep.Failed, rep.Interrupted)
	}
	var stepErr *StepError
	err = rep.Err()
	if !errors.As(err, &stepErr) {
		t.Fatalf("Err() = %T %v", err, err)
	}
	want := "provisioning failed at script \"10-user.sh\": script exited with status 3\n\nLast output lines:\nuseradd: group 'dev' exists\nboom \x1b[31m"
	if err.Error() != want {
		t.Errorf("Error():\n%q\nwant\n%q", err.Error(), want)
	}
	if stepErr.Summary() != `provisioning failed at script "10-user.sh": script exited with status 3` {
		t.Errorf("Summary() = %q", stepErr.Summary())
	}
	if fmt.Sprint(rep.Applied) != "map[file:/etc/x:old package:apt:base:aaa]" {
		t.Errorf("applied %v", rep.Applied)
	}
}

func TestParseReportInterrupted(t *testing.T) {
	full := goodStream
	cut := full[:strings.Index(full, `{"step":"script:20-x.sh"`)+30] // mid-line
	rep, err := ParseReport(strings.NewReader(cut), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || len(rep.Steps) != 2 {
		t.Fatalf("interrupted %v, steps %+v", rep.Interrupted, rep.Steps)
	}
	err = rep.Err()
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), `after script "10-user.sh"`) {
		t.Errorf("Err() = %v", err)
	}
	rep, _ = ParseReport(strings.NewReader(""), nil)
	if err := rep.Err(); !rep.Interrupted || !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "before the first step") {
		t.Errorf("empty stream: %v", err)
	}
}

func TestParseReportGarbage(t *testing.T) {
	long := strings.Repeat("y", 100<<10)
	stream := "random text\n{not json}\n{\"unknown\":1}\n\xff\xfe broken utf8\r\n" + long + "\n{\"step\":\"x\",\"exit\":\"NaN\"}\nlast line without newline"
	var progress []string
	rep, err := ParseReport(strings.NewReader(stream), func(l string) { progress = append(progress, l) })
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || len(rep.Steps) != 0 || rep.Fatal != "" {
		t.Errorf("report %+v", rep)
	}
	want := []string{"random text", "\uFFFD broken utf8", long[:maxProgressBytes], "last line without newline"}
	if !slices.Equal(progress, want) {
		for i := range progress {
			if len(progress[i]) > 80 {
				progress[i] = progress[i][:80] + "…"
			}
		}
		t.Errorf("progress %q", progress)
	}
}

func TestParseReportNeverLogsACutCredential(t *testing.T) {
	cut := `{"agent":"lxctm-agent","protocol":3,"mode":"apply"}` + "\n" + `{"credential":"db","key":"PASSWORD","value":"s3cr`
	var progress []string
	rep, err := ParseReport(strings.NewReader(cut), func(l string) { progress = append(progress, l) })
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) != 0 || !rep.Interrupted || len(rep.Credentials) != 0 {
		t.Errorf("progress %q, interrupted %v, credentials %v", progress, rep.Interrupted, rep.Credentials)
	}
}

func TestParseReportFatalAndProtocol(t *testing.T) {
	rep, err := ParseReport(strings.NewReader(`{"fatal":"the container lacks tools the agent needs: tar"}`+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Interrupted || rep.Err() == nil || rep.Err().Error() != "the provisioning agent could not run: the container lacks tools the agent needs: tar" {
		t.Errorf("fatal: %v", rep.Err())
	}
	rep, _ = ParseReport(strings.NewReader(`{"agent":"lxctm-agent","protocol":7,"mode":"apply"}`+"\n"+`{"done":true,"status":"ok"}`+"\n"), nil)
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "protocol 7") {
		t.Errorf("protocol mismatch: %v", err)
	}
}

// errReader fails after its data.
type errReader struct{ data string }

func (e *errReader) Read(p []byte) (int, error) {
	if e.data == "" {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestParseReportReadError(t *testing.T) {
	rep, err := ParseReport(&errReader{data: goodStream[:strings.Index(goodStream, "[script:")]}, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) || rep == nil || len(rep.Steps) != 1 {
		t.Errorf("err %v, report %+v", err, rep)
	}
}

func TestDescribe(t *testing.T) {
	for key, want := range map[string]string{
		"script:10-a.sh":     `script "10-a.sh"`,
		"file:/etc/a b":      "file /etc/a b",
		"package:apt:base":   `package bucket "base" (apt)`,
		"package:custom:a:b": `package bucket "a:b" (custom)`,
		"something-else":     `step "something-else"`,
	} {
		if got := Describe(key); got != want {
			t.Errorf("Describe(%q) = %q, want %q", key, got, want)
		}
	}
}

package sshexec

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

func TestRunSeparatesStdoutStderrAndExitCode(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())

	res := mustRun(t, c, Command{Argv: PctExec(testVMID, "sh", "-c", "echo out; echo err >&2")})
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 0 {
		t.Errorf("Result = %q / %q / %d, want out / err / 0", res.Stdout, res.Stderr, res.ExitCode)
	}

	const secretStdin = "stdin-secret-not-in-errors"
	res, err := c.Run(t.Context(), testNodeName, Command{
		Argv:  PctExec(testVMID, "sh", "-c", "cat >/dev/null; echo partial; echo first problem >&2; echo second problem >&2; exit 9"),
		Stdin: strings.NewReader(secretStdin),
	})
	var exitErr *ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("Run = %v, want *ExitError", err)
	}
	if exitErr.ExitCode != 9 || exitErr.Node != testNodeName || exitErr.Command != "pct exec 101 -- sh" || exitErr.Signal != "" {
		t.Errorf("ExitError = %+v", exitErr)
	}
	if string(exitErr.Stderr) != "first problem\nsecond problem\n" {
		t.Errorf("ExitError.Stderr = %q", exitErr.Stderr)
	}
	if res == nil || res.ExitCode != 9 || string(res.Stdout) != "partial\n" {
		t.Fatalf("Result with the ExitError = %+v, want exit 9 and stdout", res)
	}
	msg := err.Error()
	for _, want := range []string{"status 9", `node "pve"`, "pct exec 101 -- sh", "first problem / second problem"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	for _, leak := range []string{secretStdin, "cat >/dev/null"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error %q shows %q", msg, leak)
		}
	}
}

func TestRunReportsPctErrors(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	_, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(999, "true")})
	var exitErr *ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode != 255 || !strings.Contains(err.Error(), "999.conf' does not exist") {
		t.Errorf("pct exec on a missing container: %v", err)
	}
	_, err = c.Run(t.Context(), testNodeName, Command{Argv: []string{"no-such-command"}})
	if !errors.As(err, &exitErr) || exitErr.ExitCode != 127 {
		t.Errorf("unknown command: %v, want exit 127", err)
	}
}

func TestRunStreamsStdin(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	payload := make([]byte, 1<<20)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, c, Command{Argv: PctExec(testVMID, "cat"), Stdin: bytes.NewReader(payload)})
	if !bytes.Equal(res.Stdout, payload) {
		t.Errorf("1 MiB round trip: got %d bytes back, equal=%v", len(res.Stdout), bytes.Equal(res.Stdout, payload))
	}
}

// TestRunStreamsStdinFromAPipe: stdin is streamed, not buffered first —
// the command answers a line before the writer has finished.
func TestRunStreamsStdinFromAPipe(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	pr, pw := io.Pipe()
	defer func() { _ = pr.Close() }()
	echoed := make(chan string, 4)
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(t.Context(), testNodeName, Command{
			Argv:   PctExec(testVMID, "sh", "-c", "while read l; do echo got-$l; done"),
			Stdin:  pr,
			Stdout: func(line string) { echoed <- line },
		})
		done <- err
	}()
	if _, err := io.WriteString(pw, "one\n"); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, echoed, "the echo of the first line"); got != "got-one" {
		t.Errorf("first line %q", got)
	}
	if _, err := io.WriteString(pw, "two\n"); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	if err := waitFor(t, done, "Run"); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, echoed, "the echo of the second line"); got != "got-two" {
		t.Errorf("second line %q", got)
	}
}

// TestRunCommandIgnoringStdin: a command that exits without reading its
// input succeeds, and Run does not wait for the rest of stdin.
func TestRunCommandIgnoringStdin(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	pr, pw := io.Pipe()
	defer func() { _ = pw.Close() }()
	go func() { _, _ = pw.Write(make([]byte, 1<<20)) }()
	res, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, "echo", "done"), Stdin: pr})
	if err != nil || string(res.Stdout) != "done\n" {
		t.Fatalf("Run = %v, %+v", err, res)
	}
	_ = pr.Close()
}

func TestRunAbortsWhenStdinFails(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	pr, pw := io.Pipe()
	producerErr := errors.New("tar writer failed")
	go func() {
		_, _ = pw.Write([]byte("partial input\n"))
		<-n.Host.Blocked
		pw.CloseWithError(producerErr)
	}()
	_, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, sshnodetest.ArgvBlock), Stdin: pr})
	if !errors.Is(err, producerErr) || !strings.Contains(err.Error(), "stdin") {
		t.Fatalf("Run = %v, want the stdin error", err)
	}
	_ = waitFor(t, n.Host.Cancelled, "the command to be stopped")
}

func TestRunLineCallbacks(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	var mu sync.Mutex
	var outLines, errLines []string
	script := `for i in 1 2 3; do echo out$i; echo err$i >&2; done; printf 'crlf\r\n'; printf 'no newline at end'`
	res := mustRun(t, c, Command{
		Argv:   PctExec(testVMID, "sh", "-c", script),
		Stdout: func(l string) { mu.Lock(); outLines = append(outLines, l); mu.Unlock() },
		Stderr: func(l string) { mu.Lock(); errLines = append(errLines, l); mu.Unlock() },
	})
	if want := []string{"out1", "out2", "out3", "crlf", "no newline at end"}; !slices.Equal(outLines, want) {
		t.Errorf("stdout lines %q, want %q", outLines, want)
	}
	if want := []string{"err1", "err2", "err3"}; !slices.Equal(errLines, want) {
		t.Errorf("stderr lines %q, want %q", errLines, want)
	}
	if string(res.Stdout) != "out1\nout2\nout3\ncrlf\r\nno newline at end" {
		t.Errorf("captured stdout %q", res.Stdout)
	}
}

// TestRunBoundsCapturedOutput: the Result keeps the end of each stream,
// while callbacks see every line.
func TestRunBoundsCapturedOutput(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	c.outputLimit = 1000
	var lines int
	res := mustRun(t, c, Command{
		Argv:   PctExec(testVMID, "sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo line$i; echo e$i >&2; i=$((i+1)); done"),
		Stdout: func(string) { lines++ },
	})
	if lines != 5000 {
		t.Errorf("the callback saw %d lines, want 5000", lines)
	}
	for name, got := range map[string][]byte{"stdout": res.Stdout, "stderr": res.Stderr} {
		if len(got) != 1000 {
			t.Errorf("%s kept %d bytes, want 1000", name, len(got))
		}
	}
	if !bytes.HasSuffix(res.Stdout, []byte("line4998\nline4999\n")) || !bytes.HasSuffix(res.Stderr, []byte("e4999\n")) {
		t.Errorf("the kept output is not the end: %q", res.Stdout[len(res.Stdout)-30:])
	}
}

func TestCaptureSplitsLongLines(t *testing.T) {
	var got []int
	c := newCapture(1<<20, func(l string) { got = append(got, len(l)) }, &callbackGate{})
	long := bytes.Repeat([]byte("x"), 3*maxLineBytes+5)
	c.readFrom(io.MultiReader(bytes.NewReader(long), strings.NewReader("\nshort\n")))
	if want := []int{maxLineBytes, maxLineBytes, maxLineBytes, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("line lengths %v, want %v", got, want)
	}
}

func TestRunContextTimeout(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")}) // connect first

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := c.Run(ctx, testNodeName, Command{Argv: PctExec(testVMID, sshnodetest.ArgvBlock)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, ErrInterrupted) {
		t.Errorf("a cancelled command reported as interrupted: %v", err)
	}
	if res == nil || res.ExitCode != -1 {
		t.Errorf("Result %+v, want ExitCode -1", res)
	}
	_ = waitFor(t, n.Host.Cancelled, "the command on the node to be cancelled")
	t.Logf("Run returned %v after the deadline", time.Since(start)-300*time.Millisecond)

	// The connection survives a cancelled command.
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	if got := n.Accepted(); got != 1 {
		t.Errorf("%d connections, want 1 (cancellation must not drop the connection)", got)
	}
}

func TestRunAfterClose(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	mustRun(t, c, Command{Argv: PctExec(testVMID, "true")})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, "true")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close = %v, want ErrClosed", err)
	}
}

// TestRunDialsTheNodeNameByDefault: a node without an address entry is
// dialled by its name on the default port.
func TestRunDialsTheNodeNameByDefault(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config(func(cfg *Config) { cfg.Nodes, cfg.Port = nil, n.Port }))
	res, err := c.Run(t.Context(), "127.0.0.1", Command{Argv: PctExec(testVMID, "echo", "by-name")})
	if err != nil || string(res.Stdout) != "by-name\n" {
		t.Fatalf("Run = %v, %+v", err, res)
	}
}

func TestRunUnreachableNode(t *testing.T) {
	n := startNode(t)
	n.Stop(t)
	c := newClient(t, n.config())
	_, err := c.Run(t.Context(), testNodeName, Command{Argv: PctExec(testVMID, "true")})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(`node "pve" at %s`, n.Addr)) {
		t.Errorf("Run = %v, want a connect error naming node and address", err)
	}
}

// TestNoCallbackAfterRunReturns: a cancelled Run of a command that keeps
// printing leaves no callback running behind it.
func TestNoCallbackAfterRunReturns(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.config())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var returned, late atomic.Bool
	var once sync.Once
	_, err := c.Run(ctx, testNodeName, Command{
		Argv: PctExec(testVMID, "sh", "-c", "while :; do echo flood; done"),
		Stdout: func(string) {
			once.Do(cancel)
			if returned.Load() {
				late.Store(true)
			}
		},
	})
	returned.Store(true)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	time.Sleep(100 * time.Millisecond) // give a stray callback the chance to show up
	if late.Load() {
		t.Error("a line callback ran after Run returned")
	}
}

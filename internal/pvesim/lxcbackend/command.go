package lxcbackend

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// commandWaitDelay bounds how long a finished command's pipes may be held
// open by a process it left behind (a daemon, a background job in a
// container) before its output is cut off.
const commandWaitDelay = 3 * time.Second

// runCommand runs a host tool to completion and returns its combined output.
// Output goes through a temporary file rather than a pipe, so tools that
// daemonise (lxc-start) cannot keep the call waiting for EOF. A failure
// names the command and carries the tail of its output.
func runCommand(ctx context.Context, name string, args ...string) (string, error) {
	return runCommandIn(ctx, "", name, args...)
}

// runCommandIn is runCommand in working directory dir ("" for the current).
func runCommandIn(ctx context.Context, dir, name string, args ...string) (string, error) {
	out, err := os.CreateTemp("", "lxcbackend-cmd-*.log")
	if err != nil {
		return "", fmt.Errorf("running %s: %w", name, err)
	}
	defer func() {
		_ = out.Close()
		_ = os.Remove(out.Name())
	}()
	cmd := exec.CommandContext(ctx, name, args...) //nolint:gosec // host tools with argument vectors, no shell
	cmd.Env = commandEnv()
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = commandWaitDelay
	runErr := cmd.Run()
	text, readErr := os.ReadFile(out.Name())
	if readErr != nil {
		return "", fmt.Errorf("reading output of %s: %w", name, readErr)
	}
	output := string(text)
	if runErr != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return output, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), ctxErr)
		}
		return output, fmt.Errorf("%s %s: %w%s", name, strings.Join(args, " "), runErr, outputTail(output, 20))
	}
	return output, nil
}

// commandEnv is the environment of host tools: the caller's, with messages
// forced to English so errors can be recognised and reported verbatim.
func commandEnv() []string {
	return append(os.Environ(), "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive")
}

// outputTail formats the last lines of a command's output for an error
// message, or nothing when there was no output.
func outputTail(output string, lines int) string {
	output = strings.TrimSpace(output)
	if output == "" {
		return ""
	}
	all := strings.Split(output, "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return ":\n" + strings.Join(all, "\n")
}

// isExitError reports whether err is a command that ran and exited non-zero
// (as opposed to one that could not be started or was cancelled).
func isExitError(err error) bool {
	var exitErr *exec.ExitError
	return errors.As(err, &exitErr)
}

// runCommandLogged runs a long host tool (an image build), passing each line
// of its output to log as it arrives. A failure carries the output's tail.
func runCommandLogged(ctx context.Context, log func(string), name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = commandEnv()
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("running %s: %w", name, err)
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		_ = pr.Close()
		_ = pw.Close()
		return fmt.Errorf("running %s: %w", name, err)
	}
	_ = pw.Close()
	var tail []string
	scanner := bufio.NewScanner(pr)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := scanner.Text()
		log(line)
		tail = append(tail, line)
		if len(tail) > 20 {
			tail = tail[1:]
		}
	}
	_ = pr.Close()
	if err := cmd.Wait(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: %w", name, ctxErr)
		}
		return fmt.Errorf("%s %s: %w%s", name, strings.Join(args, " "), err, outputTail(strings.Join(tail, "\n"), 20))
	}
	return nil
}

package sshnode_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// The fake node these tests talk to is sshnodetest's, shared with
// sshexec's tests; what follows is how these tests look at one exec.

// result is what a client sees from one exec.
type result struct {
	stdout, stderr string
	code           int
}

// run executes line in a new session with stdin and returns its output
// and exit status; a session that ends without exit status fails the test.
func run(t *testing.T, c *ssh.Client, line, stdin string) result {
	t.Helper()
	r, err := tryRun(c, line, stdin)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return r
}

func tryRun(c *ssh.Client, line, stdin string) (result, error) {
	sess, err := c.NewSession()
	if err != nil {
		return result{}, err
	}
	defer func() { _ = sess.Close() }()
	var out, errOut bytes.Buffer
	sess.Stdin = strings.NewReader(stdin)
	sess.Stdout, sess.Stderr = &out, &errOut
	err = sess.Run(line)
	r := result{stdout: out.String(), stderr: errOut.String()}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitStatus()
	default:
		return r, err
	}
	return r, nil
}

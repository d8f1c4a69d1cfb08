package provision

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The key script runs under the host's sh with HOME-relative paths swapped
// for a temp dir, so what it writes can be checked.
func TestSetAuthorizedKeysWritesTheKeysAtomically(t *testing.T) {
	root := t.TempDir()
	cmd := SetAuthorizedKeys("  ssh-ed25519 AAAA one\nssh-ed25519 BBBB two \n")
	if strings.Contains(strings.Join(cmd.Argv, " "), "AAAA") {
		t.Fatal("keys must travel on stdin, not in argv")
	}
	script := strings.ReplaceAll(cmd.Argv[2], "/root/", root+"/")
	run := exec.Command(cmd.Argv[0], cmd.Argv[1], script)
	run.Stdin = strings.NewReader(cmd.Stdin)
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	path := filepath.Join(root, ".ssh", "authorized_keys")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "ssh-ed25519 AAAA one\nssh-ed25519 BBBB two\n" {
		t.Errorf("authorized_keys = %q", got)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("authorized_keys mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
	if _, err := os.Stat(path + ".lxctm"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
}

func TestSetRootPasswordKeepsTheSecretOutOfArgv(t *testing.T) {
	cmd := SetRootPassword("s3cret pass")
	if strings.Contains(strings.Join(cmd.Argv, " "), "s3cret") || cmd.Stdin != "root:s3cret pass\n" {
		t.Errorf("argv %q stdin %q", cmd.Argv, cmd.Stdin)
	}
}

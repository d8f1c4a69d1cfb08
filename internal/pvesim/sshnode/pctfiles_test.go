package sshnode_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

// writeNodeFile creates a file on the simulated node (rel is relative to
// the node's root directory).
func writeNodeFile(t *testing.T, n *sshnodetest.Node, rel, content string) {
	t.Helper()
	p := filepath.Join(n.NodeDir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdirNode(t *testing.T, n *sshnodetest.Node, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(n.NodeDir, rel), 0o755); err != nil {
		t.Fatal(err)
	}
}

// checkFile asserts a file's content and permission bits.
func checkFile(t *testing.T, path string, content []byte, perm fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("%s: %d bytes differ from the %d expected", path, len(got), len(content))
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != perm {
		t.Errorf("%s: mode %o, want %o", path, info.Mode().Perm(), perm)
	}
}

func owner(t *testing.T, path string) (uid, gid int) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	uid, gid, ok := fileOwner(info)
	if !ok {
		t.Fatalf("no owner information for %s", path)
	}
	return uid, gid
}

// binaryPayload has every byte value and is larger than any pipe buffer.
func binaryPayload() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestPushPullRoundTrip(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	ct := t.TempDir() // the fake container sees the test machine's files
	payload := binaryPayload()
	writeNodeFile(t, n, "root/payload.bin", string(payload))

	// A relative source starts at root's home on the node.
	r := run(t, c, fmt.Sprintf("pct push 101 payload.bin %s --perms 640", ct+"/payload.bin"), "")
	if r != (result{}) {
		t.Fatalf("push: %+v", r)
	}
	checkFile(t, ct+"/payload.bin", payload, 0o640)

	// Without --perms a new file gets 0666 & ~022.
	if r := run(t, c, "pct push 101 /root/payload.bin "+ct+"/default.bin", ""); r != (result{}) {
		t.Fatalf("push: %+v", r)
	}
	checkFile(t, ct+"/default.bin", payload, 0o644)

	// An existing file is truncated and keeps its mode without --perms.
	if err := os.WriteFile(ct+"/existing", bytes.Repeat([]byte("old"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	writeNodeFile(t, n, "root/small.txt", "new content\n")
	if r := run(t, c, "pct push 101 small.txt "+ct+"/existing", ""); r != (result{}) {
		t.Fatalf("push: %+v", r)
	}
	checkFile(t, ct+"/existing", []byte("new content\n"), 0o600)

	// Pull back onto the node, octal and hexadecimal modes.
	mkdirNode(t, n, "srv")
	if r := run(t, c, "pct pull 101 "+ct+"/payload.bin /srv/copy.bin --perms 600", ""); r != (result{}) {
		t.Fatalf("pull: %+v", r)
	}
	checkFile(t, filepath.Join(n.NodeDir, "srv/copy.bin"), payload, 0o600)
	if r := run(t, c, "pct pull 101 "+ct+"/payload.bin copy.bin --perms 0x1ed", ""); r != (result{}) {
		t.Fatalf("pull: %+v", r)
	}
	checkFile(t, filepath.Join(n.NodeDir, "root/copy.bin"), payload, 0o755)
}

func TestPushSetsOwner(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	ct := t.TempDir()
	writeNodeFile(t, n, "root/f", "x")
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 1234, 2345 // root can give the file away: prove chown ran
	}
	line := fmt.Sprintf("pct push 101 f %s/f --user %d --group %d --perms 0755", ct, uid, gid)
	if r := run(t, c, line, ""); r != (result{}) {
		t.Fatalf("push: %+v", r)
	}
	checkFile(t, ct+"/f", []byte("x"), 0o755)
	if gotUID, gotGID := owner(t, ct+"/f"); gotUID != uid || gotGID != gid {
		t.Errorf("owner %d:%d, want %d:%d", gotUID, gotGID, uid, gid)
	}
}

// TestFileCopyErrorsExitZero checks pct's caveat: errors inside the
// push/pull worker are printed but the exit status is 0.
func TestFileCopyErrorsExitZero(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	ct := t.TempDir()
	writeNodeFile(t, n, "root/f", "x")
	if err := os.WriteFile(ct+"/exists", []byte("ct file"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, line, stderr string
	}{
		{"push: missing source", "pct push 101 missing.txt " + ct + "/x", "failed to open missing.txt for reading\n"},
		{"push: missing parent", "pct push 101 f " + ct + "/no/dir/x", "failed to create file: " + ct + "/no/dir/x: No such file or directory\n"},
		{"push: directory", "pct push 101 f " + ct, "failed to create file: " + ct + ": Is a directory\n"},
		{"push: parent is a file", "pct push 101 f " + ct + "/exists/x", "failed to create file: " + ct + "/exists/x: Not a directory\n"},
		{"push: invalid mode", "pct push 101 f " + ct + "/m --perms 9", "invalid mode: '09'\n"},
		{"push: unknown user", "pct push 101 f " + ct + "/u --user no-such-user-xyz", "failed to get uid for: no-such-user-xyz\n"},
		{"push: unknown group", "pct push 101 f " + ct + "/g --group no-such-group-xyz", "failed to get gid for: no-such-group-xyz\n"},
		{"pull: missing file", "pct pull 101 " + ct + "/missing out", "failed to open " + ct + "/missing: No such file or directory\n"},
		{"pull: missing node directory", "pct pull 101 " + ct + "/exists /nodir/out", "failed to create file: /nodir/out: No such file or directory\n"},
		{"pull: invalid mode", "pct pull 101 " + ct + "/exists out2 --perms 0x", "invalid mode: '0x'\n"},
		{"pull: unknown node user", "pct pull 101 " + ct + "/exists out3 --user alice", "failed to get uid for: alice\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := result{stderr: tt.stderr}
			if got := run(t, c, tt.line, ""); got != want {
				t.Errorf("%s\n got %+v\nwant %+v", tt.line, got, want)
			}
		})
	}
	for _, p := range []string{ct + "/no", ct + "/m", ct + "/u", ct + "/g", filepath.Join(n.NodeDir, "root/out2"), filepath.Join(n.NodeDir, "root/out3")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created by a failed copy", p)
		}
	}
	// pct creates the pull target before it opens the container file.
	checkFile(t, filepath.Join(n.NodeDir, "root/out"), nil, 0o644)
}

func TestNodePathsStayInsideNodeDir(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	ct := t.TempDir()
	if err := os.WriteFile(ct+"/f", []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}

	if r := run(t, c, "pct pull 101 "+ct+"/f /../../../escape.txt", ""); r != (result{}) {
		t.Fatalf("pull: %+v", r)
	}
	checkFile(t, filepath.Join(n.NodeDir, "escape.txt"), []byte("data"), 0o644)

	outside := t.TempDir()
	mkdirNode(t, n, "srv")
	if err := os.Symlink(outside, filepath.Join(n.NodeDir, "srv/link")); err != nil {
		t.Fatal(err)
	}
	r := run(t, c, "pct pull 101 "+ct+"/f /srv/link/x", "")
	if r.code != 0 || r.stderr == "" || !bytes.HasPrefix([]byte(r.stderr), []byte("failed to create file: /srv/link/x: ")) {
		t.Errorf("pull through an escaping symlink: %+v", r)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("pull wrote outside the node directory: %v", entries)
	}

	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, c, "pct push 101 /srv/link/secret "+ct+"/stolen", "")
	if r.stderr != "failed to open /srv/link/secret for reading\n" {
		t.Errorf("push through an escaping symlink: %+v", r)
	}
}

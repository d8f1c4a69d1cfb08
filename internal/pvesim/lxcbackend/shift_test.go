package lxcbackend

import (
	"os"
	"path/filepath"
	"testing"
)

func TestShiftOwnership(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing file owners needs root")
	}
	root := t.TempDir()
	suid := filepath.Join(root, "usr/bin/passwd")
	if err := os.MkdirAll(filepath.Dir(suid), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(suid, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(suid, filepath.Join(root, "usr/bin/hardlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("passwd", filepath.Join(root, "usr/bin/link")); err != nil {
		t.Fatal(err)
	}
	nobody := filepath.Join(root, "nobody")
	if err := os.WriteFile(nobody, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(nobody, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	owner := func(path string) (int, int, os.FileMode) {
		info, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		uid, gid, ok := fileOwner(info)
		if !ok {
			t.Fatal("no owner")
		}
		return uid, gid, info.Mode()
	}
	for range 2 { // repeating a shift changes nothing
		if err := shiftOwnership(root, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{root, suid, filepath.Join(root, "usr/bin/link")} {
		if uid, gid, _ := owner(path); uid != 100000 || gid != 100000 {
			t.Errorf("%s owned by %d:%d after the shift", path, uid, gid)
		}
	}
	if uid, _, _ := owner(nobody); uid != 165534 {
		t.Errorf("nobody's file owned by %d, want 165534", uid)
	}
	if _, _, mode := owner(suid); mode&os.ModeSetuid == 0 {
		t.Errorf("the setuid bit was lost: %v", mode)
	}
	if err := shiftOwnership(root, false); err != nil {
		t.Fatal(err)
	}
	if uid, gid, mode := owner(suid); uid != 0 || gid != 0 || mode&os.ModeSetuid == 0 {
		t.Errorf("after shifting back: %d:%d %v", uid, gid, mode)
	}
}

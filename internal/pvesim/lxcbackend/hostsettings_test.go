package lxcbackend

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSubIDCovered(t *testing.T) {
	tests := []struct {
		content string
		want    bool
	}{
		{"", false},
		{"root:100000:65536\n", true},
		{"0:50000:200000\n", true},
		{"root:100000:1000\n", false},
		{"someone:100000:65536\n", false},
		{"garbage\nroot:100000:65536\n", true},
	}
	for _, tt := range tests {
		file := filepath.Join(t.TempDir(), "subuid")
		if err := os.WriteFile(file, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := subIDCovered(file); err != nil || got != tt.want {
			t.Errorf("%q: got %v, %v; want %v", tt.content, got, err, tt.want)
		}
	}
	if got, err := subIDCovered(filepath.Join(t.TempDir(), "missing")); err != nil || got {
		t.Errorf("a missing file: %v, %v", got, err)
	}
}

func TestEditLinesKeepsModeAndOtherLines(t *testing.T) {
	file := filepath.Join(t.TempDir(), "subgid")
	if err := os.WriteFile(file, []byte("admin:200000:65536\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := editLines(file, func(lines []string) []string { return append(lines, subIDEntry) }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	if string(data) != "admin:200000:65536\nroot:100000:65536\n" {
		t.Errorf("after adding: %q", data)
	}
	if info, _ := os.Stat(file); info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", info.Mode())
	}
}

func TestRegistryTracksLiveSimulators(t *testing.T) {
	r := hostRegistry{dir: t.TempDir()}
	self, other, dead := t.TempDir(), t.TempDir(), t.TempDir()
	lock, err := tryLockFile(stateLockFile(other))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Close() }()
	if _, err := tryLockFile(stateLockFile(other)); !errors.Is(err, errLockBusy) {
		t.Fatalf("a second lock on a held state directory: %v", err)
	}
	err = r.locked(func() error {
		for _, dir := range []string{self, other, dead} {
			if err := r.register(dir); err != nil {
				return err
			}
		}
		alive, err := r.othersAlive(self)
		if err != nil || !alive {
			t.Errorf("a simulator holding its lock is not alive: %v, %v", alive, err)
		}
		if _, err := os.Stat(r.instanceFile(dead)); !os.IsNotExist(err) {
			t.Errorf("the dead simulator's entry was kept: %v", err)
		}
		if err := r.rememberOriginal("ip_forward", "0"); err != nil {
			return err
		}
		if err := r.rememberOriginal("ip_forward", "1"); err != nil {
			return err
		}
		value, ok, err := r.takeOriginal("ip_forward")
		if err != nil || !ok || value != "0" {
			t.Errorf("the first remembered value is not kept: %q, %v, %v", value, ok, err)
		}
		if _, ok, _ := r.takeOriginal("ip_forward"); ok {
			t.Error("a taken value is still remembered")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = lock.Close()
	err = r.locked(func() error {
		alive, err := r.othersAlive(self)
		if err != nil || alive {
			t.Errorf("a simulator that let go of its lock is alive: %v, %v", alive, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

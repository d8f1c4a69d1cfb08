package lxcbackend_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestCleanupStaleAfterCrash kills a simulator (a helper process that exits
// with a running container, bridge, NAT table and ip_forward changed) and
// checks that CleanupStale, and New on the same state directory, remove
// everything it left.
func TestCleanupStaleAfterCrash(t *testing.T) {
	lxctest.Require(t)
	forwardBefore := readIPForward(t)
	imageBackend := lxctest.NewBackend(t, lxcbackend.Config{})
	image := lxctest.Image(t, imageBackend)
	if err := imageBackend.Close(); err != nil { // it would count as a live simulator
		t.Fatal(err)
	}

	t.Run("CleanupStale", func(t *testing.T) {
		stateDir := lxctest.SearchableTempDir(t)
		leftovers := crashSimulator(t, stateDir, image)
		if err := lxcbackend.CleanupStale(stateDir); err != nil {
			t.Fatalf("CleanupStale: %v", err)
		}
		assertNothingLeft(t, leftovers.Bridge, leftovers.NftTable, filepath.Join(stateDir, "lxc"))
		if _, err := os.Stat(lxcbackend.RunRecordFile(stateDir)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the run record is still there: %v", err)
		}
		assertForwardRestored(t, stateDir, forwardBefore)
	})

	t.Run("New on the same state directory", func(t *testing.T) {
		stateDir := lxctest.SearchableTempDir(t)
		leftovers := crashSimulator(t, stateDir, image)
		b, err := lxcbackend.New(lxcbackend.Config{StateDir: stateDir, Logf: t.Logf})
		if err != nil {
			t.Fatalf("New after a crash: %v", err)
		}
		defer func() { _ = b.Close() }()
		if out, _ := exec.Command("lxc-ls", "-P", b.LXCPath()).CombinedOutput(); strings.TrimSpace(string(out)) != "" {
			t.Errorf("the crashed run's containers survived New: %s", out)
		}
		if out, _ := exec.Command("nft", "list", "tables").Output(); !strings.Contains(string(out), b.NftTable()) || strings.Count(string(out), leftovers.NftTable) != 1 {
			t.Errorf("want exactly the new run's table %s:\n%s", b.NftTable(), out)
		}
		if _, err := lxcbackend.New(lxcbackend.Config{StateDir: stateDir}); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("a second backend on a live state directory: %v; want an in-use error", err)
		}
		bridge, table, lxcPath := b.Bridge(), b.NftTable(), b.LXCPath()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		assertNothingLeft(t, bridge, table, lxcPath)
	})
}

// crashSimulator runs startAndCrash in a child process and checks it left
// a running container, its bridge and its table behind; it returns the
// recorded network.
func crashSimulator(t *testing.T, stateDir, image string) lxcbackend.HostNetwork {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashStateDirEnv+"="+stateDir, crashImageEnv+"="+image)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != crashExitCode || strings.TrimSpace(stdout.String()) != "started" {
		t.Fatalf("crashing simulator: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(lxcbackend.RunRecordFile(stateDir))
	if err != nil {
		t.Fatalf("the crashed run left no record: %v", err)
	}
	var n lxcbackend.HostNetwork
	if err := json.Unmarshal(data, &n); err != nil {
		t.Fatal(err)
	}
	if state := lxcbackend.LXCState(t.Context(), filepath.Join(stateDir, "lxc"), "401"); state != "RUNNING" {
		t.Fatalf("the crashed run's container is %q, want RUNNING", state)
	}
	if !lxcbackend.LinkExists(t.Context(), n.Bridge) {
		t.Fatalf("the crashed run's bridge %s is gone already", n.Bridge)
	}
	if got := readIPForward(t); got != "1" {
		t.Fatalf("ip_forward is %s after a run with egress", got)
	}
	return n
}

// assertForwardRestored checks ip_forward is back to its value from before
// the test, unless another simulator on this machine still needs it.
func assertForwardRestored(t *testing.T, self, before string) {
	t.Helper()
	alive, err := lxcbackend.OtherSimulatorsAlive(self)
	if err != nil {
		t.Fatal(err)
	}
	got := readIPForward(t)
	if alive {
		t.Logf("another simulator is running on this machine; ip_forward (%s) stays as it needs it", got)
		return
	}
	if got != before {
		t.Errorf("ip_forward is %s, it was %s before the simulators ran", got, before)
	}
}

// readIPForward reads the host's ip_forward setting.
func readIPForward(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(lxcbackend.IPForwardPath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

package pvesim_test

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// startIn starts a simulator that keeps its state in dir; tests close it
// early to restart another one on the same directory.
func startIn(t *testing.T, dir string, opts ...pvesimtest.Option) *pvesimtest.Sim {
	t.Helper()
	return pvesimtest.New(t, append([]pvesimtest.Option{pvesimtest.WithStateDir(dir), pvesimtest.WithTaskDuration(5 * time.Millisecond)}, opts...)...)
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startIn(t, dir)
	c := tokenClient(t, srv)
	c.mustTask(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}})
	c.createCT("100", url.Values{"description": {"keep me"}, "tags": {"x"}, "start": {"1"}})
	c.createCT("101", nil)
	upid := c.mustTask(http.MethodPost, "/nodes/pve/lxc/101/status/start", url.Values{})
	c.do(http.MethodPut, "/nodes/pve/lxc/101/config", url.Values{"nameserver": {"9.9.9.9"}}).ok(t)
	before, _ := srv.Container(101)
	token, password, fingerprint, endpoint := srv.APIToken(), srv.Password(), srv.Fingerprint(), srv.Endpoint()
	sshKey := srv.Nodes()[0].SSHHostKey
	caPEM := string(srv.CACertPEM())
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv2 := startIn(t, dir)
	defer func() { _ = srv2.Close() }()
	if srv2.APIToken() != token || srv2.Password() != password || string(srv2.CACertPEM()) != caPEM || srv2.Nodes()[0].SSHHostKey != sshKey {
		t.Error("credentials, CA or SSH host key changed across the restart")
	}
	if srv2.Fingerprint() != fingerprint {
		t.Errorf("server certificate changed: %s → %s (listen %s)", fingerprint, srv2.Fingerprint(), endpoint)
	}
	c2 := tokenClient(t, srv2)
	cts := srv2.Containers()
	if len(cts) != 2 || cts[0].Status != "running" || cts[0].Config["description"] != "keep me\n" || cts[0].Config["tags"] != "x" {
		t.Fatalf("containers after restart: %+v", cts)
	}
	after, _ := srv2.Container(101)
	if after.ConfigText != before.ConfigText || after.Pending["nameserver"] != "9.9.9.9" {
		t.Errorf("config text changed:\n%s\n---\n%s", before.ConfigText, after.ConfigText)
	}
	if _, running := srv2.Memory().Running(100); !running {
		t.Error("running container not restarted in the backend")
	}
	if vols := srv2.Volumes("pve", "local"); len(vols) != 1 || vols[0].VolID != debianVol {
		t.Errorf("template volume lost: %+v", vols)
	}
	if _, err := os.Stat(srv2.Volumes("pve", "local")[0].Path); err != nil {
		t.Errorf("template file lost: %v", err)
	}
	st := c2.do(http.MethodGet, "/nodes/pve/tasks/"+upid+"/status", nil).ok(t).object(t)
	if st["exitstatus"] != "OK" {
		t.Errorf("task after restart: %v", st)
	}
	if got := c2.do(http.MethodGet, "/cluster/nextid", nil).ok(t).str(t); got != "102" {
		t.Errorf("nextid after restart = %s", got)
	}
	// Credentials given explicitly win over the stored ones.
	_ = srv2.Close()
	srv3 := startIn(t, dir, pvesimtest.WithRootPassword("newpass1"))
	defer func() { _ = srv3.Close() }()
	if srv3.Password() != "newpass1" || srv3.APIToken() != token {
		t.Errorf("explicit password not used (%q) or token lost", srv3.Password())
	}
}

// TestCrashDuringStateWriteKeepsPreviousState simulates a simulator killed
// while writing its state: the temp file is half written and never renamed.
func TestCrashDuringStateWriteKeepsPreviousState(t *testing.T) {
	dir := t.TempDir()
	srv := startIn(t, dir, pvesimtest.WithTemplates(debian12))
	c := tokenClient(t, srv)
	c.createCT("100", nil)
	srv.PersistNow() // the create task's last write may still be in flight
	good, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	crashed := errors.New("killed")
	srv.SetStateWriter(func(path string, data []byte, _ os.FileMode) error {
		tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
		if err != nil {
			return err
		}
		_, _ = tmp.Write(data[:len(data)/2])
		_ = tmp.Close()
		return crashed
	})
	c.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"hostname": {"lost-update"}}).ok(t)
	now, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if string(now) != string(good) {
		t.Fatal("state file changed although every write 'crashed'")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".state.json.tmp-*"))
	if len(leftovers) == 0 {
		t.Fatal("the simulated crash left no temp file")
	}
	srv.Kill() // no clean shutdown: the process "died"

	srv2 := startIn(t, dir)
	defer func() { _ = srv2.Close() }()
	ct, ok := srv2.Container(100)
	if !ok || ct.Config["hostname"] != "CT100" {
		t.Fatalf("after crash: %+v %v", ct, ok)
	}
	// A later write still works and replaces the file atomically.
	c2 := tokenClient(t, srv2)
	c2.do(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"hostname": {"kept"}}).ok(t)
	data, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if !strings.Contains(string(data), "hostname: kept") {
		t.Error("new state not written")
	}
}

func TestRequestLogFileHasNoSecrets(t *testing.T) {
	var buf lockedBuffer
	sim := fastSim(t, pvesimtest.WithRequestLog(&buf), pvesimtest.WithRootPassword("topsecret1"))
	c := ticketClient(t, sim)
	c.do(http.MethodGet, "/nodes", nil).ok(t)
	tokenClient(t, sim).do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"},
		"password": {"ctpassword"}, "ssh-public-keys": {"ssh-ed25519 AAAAC3Nz test"}}).ok(t)
	out := buf.String()
	for _, secret := range []string{"topsecret1", "ctpassword", c.ticket, c.csrf, strings.SplitN(sim.APIToken(), "=", 2)[1]} {
		if strings.Contains(out, secret) {
			t.Errorf("request log contains a secret: %q", secret)
		}
	}
	if !strings.Contains(out, "ssh-ed25519 AAAAC3Nz test") || !strings.Contains(out, `"auth":"root@pam!sim"`) {
		t.Errorf("request log lacks expected fields:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n != len(sim.Requests()) {
		t.Errorf("%d JSON lines for %d requests", n, len(sim.Requests()))
	}
	sim.ResetRequests()
	if len(sim.Requests()) != 0 {
		t.Error("ResetRequests kept records")
	}
}

// lockedBuffer is a strings.Builder safe for the server's writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// killState makes srv behave like a process killed with SIGKILL as far as
// its state directory goes: nothing it does from now on reaches the disk
// (its workers' rollbacks included). Then it is shut down.
func killState(t *testing.T, srv *pvesimtest.Sim) {
	t.Helper()
	srv.SetStateWriter(func(string, []byte, os.FileMode) error { return errors.New("killed") })
	_ = srv.Close()
}

// A simulator that dies while tasks run ends them on restart the way PVE
// shows a task whose worker vanished: stopped, exitstatus "unexpected
// status", the log without a final TASK line. Persistent locks stay: the
// interrupted create leaves "lock: create" and its allocated volume, and
// only pct unlock (or a config change PVE would refuse) lifts the lock.
func TestRestartEndsInterruptedTasksLikePVE(t *testing.T) {
	dir := t.TempDir()
	srv := startIn(t, dir, pvesimtest.WithTemplates(debian12), pvesimtest.WithTaskDurationFor("vzcreate", time.Hour))
	c := tokenClient(t, srv)
	upid := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{
		"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}, "hostname": {"interrupted"},
	}).ok(t).str(t)
	// Kill it once the worker has allocated its disk and started extracting.
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(dir, "state.json"))
		if strings.Contains(string(data), "extracting archive") && strings.Contains(string(data), "vm-100-disk-0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the create task never got to its extraction step")
		}
		time.Sleep(5 * time.Millisecond)
	}
	killState(t, srv)

	srv2 := startIn(t, dir)
	defer func() { _ = srv2.Close() }()
	c2 := tokenClient(t, srv2)
	st := c2.do(http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(upid)+"/status", nil).ok(t).object(t)
	if st["status"] != "stopped" || st["exitstatus"] != "unexpected status" {
		t.Fatalf("interrupted task after restart: %v", st)
	}
	var listed []map[string]any
	c2.do(http.MethodGet, "/cluster/tasks", nil).ok(t).decode(t, &listed)
	if len(listed) != 1 || listed[0]["upid"] != upid || listed[0]["status"] != "unexpected status" || listed[0]["endtime"] == nil {
		t.Errorf("/cluster/tasks after restart: %v", listed)
	}
	log := srv2.TaskLog(upid)
	if len(log) == 0 || strings.HasPrefix(log[len(log)-1], "TASK ") || !strings.Contains(strings.Join(log, "\n"), "extracting archive") {
		t.Errorf("task log after restart: %q", log)
	}

	conf := c2.do(http.MethodGet, "/nodes/pve/lxc/100/config", nil).ok(t).object(t)
	if len(conf) != 2 || conf["lock"] != "create" {
		t.Fatalf("config after restart = %v, want only the create lock", conf)
	}
	if cur := c2.do(http.MethodGet, "/nodes/pve/lxc/100/status/current", nil).ok(t).object(t); cur["lock"] != "create" {
		t.Errorf("status/current lock = %v", cur["lock"])
	}
	c2.do(http.MethodDelete, "/nodes/pve/lxc/100", url.Values{"purge": {"1"}}).wantErr(t, 500, "CT is locked (create)")
	c2.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}).
		wantErr(t, 500, "CT 100 already exists on node 'pve'")
	if vols := srv2.Volumes("pve", "local-lvm"); len(vols) != 1 || vols[0].VMID != 100 {
		t.Errorf("volumes after restart: %+v", vols)
	}

	// pct unlock lifts the lock; then the leftover can be destroyed with
	// its unreferenced volume.
	node := srv2.Nodes()[0]
	if _, errOut, code := sshRun(t, node, srv2.Password(), "pct unlock 100", ""); code != 0 || errOut != "" {
		t.Fatalf("pct unlock: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := sshRun(t, node, srv2.Password(), "pct unlock 100", ""); code != 255 || errOut != "no lock found trying to remove any lock\n" {
		t.Errorf("second pct unlock: exit %d, stderr %q", code, errOut)
	}
	c2.mustTask(http.MethodDelete, "/nodes/pve/lxc/100", url.Values{"purge": {"1"}, "destroy-unreferenced-disks": {"1"}})
	if _, ok := srv2.Container(100); ok {
		t.Error("container 100 still exists")
	}
	if vols := srv2.Volumes("pve", "local-lvm"); len(vols) != 0 {
		t.Errorf("volumes after destroy: %+v", vols)
	}
}

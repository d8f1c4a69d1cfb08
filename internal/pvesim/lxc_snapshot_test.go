package pvesim_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// The snapshot API's conformance cases run against the memory backend and,
// as root where LXC is available, against real containers.

// snapshotEnv is a simulator for the snapshot cases: tasks are quick except
// the snapshot tasks, which run long enough to observe their locks.
type snapshotEnv struct {
	t   *testing.T
	sim *pvesimtest.Sim
	c   *apiClient // API token
	lxc *lxcbackend.Backend
}

// snapshotTaskDuration is how long the snapshot tasks and vzstart run.
const snapshotTaskDuration = 250 * time.Millisecond

func snapshotOptions() []pvesimtest.Option {
	return []pvesimtest.Option{
		pvesimtest.WithTemplates(debian12), pvesimtest.WithTaskDuration(5 * time.Millisecond),
		pvesimtest.WithTaskDurationFor("vzsnapshot", snapshotTaskDuration), pvesimtest.WithTaskDurationFor("vzdelsnapshot", snapshotTaskDuration),
		pvesimtest.WithTaskDurationFor("vzrollback", snapshotTaskDuration), pvesimtest.WithTaskDurationFor("vzstart", snapshotTaskDuration),
		pvesimtest.WithStorages(append(pvesim.DefaultStorages(), pvesim.StorageConfig{ID: "local-dir", Type: "dir", Content: []string{"images", "rootdir"}, Path: "/mnt/local-dir", Total: 50 << 30})...),
	}
}

func newMemorySnapshotEnv(t *testing.T) *snapshotEnv {
	sim := pvesimtest.New(t, snapshotOptions()...)
	return &snapshotEnv{t: t, sim: sim, c: tokenClient(t, sim)}
}

// newLXCSnapshotEnv runs the simulator on real LXC containers, or skips
// where that cannot work.
func newLXCSnapshotEnv(t *testing.T) *snapshotEnv {
	lxctest.Require(t)
	b := lxctest.NewBackend(t, lxcbackend.Config{})
	sim := pvesimtest.New(t, append(snapshotOptions(), pvesimtest.WithBackend(b))...)
	return &snapshotEnv{t: t, sim: sim, c: tokenClient(t, sim), lxc: b}
}

// snapshotBackends are the backends every snapshot case runs on.
var snapshotBackends = []struct {
	name string
	env  func(*testing.T) *snapshotEnv
}{{"memory", newMemorySnapshotEnv}, {"lxc", newLXCSnapshotEnv}}

func TestSnapshotAPI(t *testing.T) {
	cases := []struct {
		name string
		run  func(e *snapshotEnv)
	}{
		{"create, list, config sections and parents", testSnapshotCreateAndList},
		{"names, reserved names and errors", testSnapshotNameErrors},
		{"snapshot config get and update", testSnapshotConfig},
		{"rollback of a running container", testSnapshotRollback},
		{"delete re-links parents", testSnapshotDelete},
		{"storages without snapshots refuse", testSnapshotStorageRefusal},
		{"locks, templates and destroy", testSnapshotLocksTemplatesDestroy},
		{"a failed snapshot task leaves nothing", testSnapshotTaskFailure},
		{"volumes a snapshot uses are kept", testSnapshotKeepsVolumes},
	}
	for _, b := range snapshotBackends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.run(b.env(t)) })
			}
		})
	}
}

const ctPath = "/nodes/pve/lxc/"

func snapPath(vmid int, rest ...string) string {
	return ctPath + strconv.Itoa(vmid) + "/snapshot" + strings.Join(append([]string{""}, rest...), "/")
}

// snapshot takes a snapshot and requires its task to succeed.
func (e *snapshotEnv) snapshot(vmid int, name, description string) {
	e.t.Helper()
	p := url.Values{"snapname": {name}}
	if description != "" {
		p.Set("description", description)
	}
	e.c.mustTask(http.MethodPost, snapPath(vmid), p)
}

// failedTask runs a call whose task must fail with exitstatus.
func (e *snapshotEnv) failedTask(method, path string, params url.Values, exitstatus string) {
	e.t.Helper()
	upid := e.c.do(method, path, params).ok(e.t).str(e.t)
	if st := e.c.waitTask("pve", upid); st["exitstatus"] != exitstatus {
		e.t.Fatalf("%s %s: task ended %q, want %q; log %q", method, path, st["exitstatus"], exitstatus, e.sim.TaskLog(upid))
	}
}

// list reads GET .../snapshot as name → entry.
func (e *snapshotEnv) list(vmid int) map[string]map[string]any {
	e.t.Helper()
	var entries []map[string]any
	e.c.do(http.MethodGet, snapPath(vmid), nil).ok(e.t).decode(e.t, &entries)
	out := map[string]map[string]any{}
	for i, entry := range entries {
		name, _ := entry["name"].(string)
		out[name] = entry
		if name == "current" && i != len(entries)-1 {
			e.t.Errorf("current is entry %d of %d, PVE lists it last", i, len(entries))
		}
	}
	return out
}

// waitForLock polls status/current until the container shows lock.
func (e *snapshotEnv) waitForLock(vmid int, lock string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ct, _ := e.sim.Container(vmid); ct.Lock == lock {
			cur := e.c.do(http.MethodGet, ctPath+strconv.Itoa(vmid)+"/status/current", nil).ok(e.t).object(e.t)
			if cur["lock"] != lock {
				e.t.Errorf("status/current lock = %v while the config holds %q", cur["lock"], lock)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("CT %d never showed lock %q", vmid, lock)
}

// exec runs a shell script in a running container of the lxc backend.
func (e *snapshotEnv) exec(vmid int, script string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code, err := e.lxc.Exec(ctx, vmid, []string{"/bin/sh", "-c", script}, nil, &out, &errOut)
	if err != nil || code != 0 {
		e.t.Fatalf("CT %d: %q: exit %d, %v, stderr %q", vmid, script, code, err, errOut.String())
	}
	return out.String()
}

func testSnapshotCreateAndList(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", url.Values{"hostname": {"web"}, "memory": {"512"}, "description": {"the CT"}})
	before := time.Now().Unix()
	upid := c.do(http.MethodPost, snapPath(100), url.Values{"snapname": {"s1"}, "description": {"before update"}}).ok(t).str(t)
	if !strings.Contains(upid, ":vzsnapshot:100:") {
		t.Errorf("snapshot UPID %s, want a vzsnapshot task of CT 100", upid)
	}
	e.waitForLock(100, "snapshot")
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"memory": {"1024"}}).wantErr(t, 500, "CT is locked (snapshot)")
	if ct, _ := e.sim.Container(100); !strings.Contains(ct.ConfigText, "\n[s1]\n") || !strings.Contains(ct.ConfigText, "snapstate: prepare\n") {
		t.Errorf("config during the snapshot task:\n%s", ct.ConfigText)
	}
	if st := c.waitTask("pve", upid); st["exitstatus"] != "OK" {
		t.Fatalf("snapshot task: %v, log %q", st, e.sim.TaskLog(upid))
	}
	if log := strings.Join(e.sim.TaskLog(upid), "\n"); !strings.Contains(log, `Logical volume "snap_vm-100-disk-0_s1" created.`) {
		t.Errorf("snapshot task log: %s", log)
	}
	after := time.Now().Unix()

	// Later changes touch the current config only.
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"memory": {"1024"}, "hostname": {"web2"}}).ok(t)
	ct, _ := e.sim.Container(100)
	if ct.Lock != "" || ct.Config["parent"] != "s1" || ct.Config["memory"] != "1024" {
		t.Errorf("config after the snapshot: lock %q, values %v", ct.Lock, ct.Config)
	}
	// The file as PVE writes it: current values with parent, then the
	// section with the copied values, the description as comments and
	// snaptime; no lock, no current description, no snapstate.
	head, section, ok := strings.Cut(ct.ConfigText, "\n[s1]\n")
	if !ok || !strings.HasPrefix(head, "#the CT\n") || !strings.Contains(head, "\nparent: s1\n") {
		t.Fatalf("config file:\n%s", ct.ConfigText)
	}
	if !strings.HasPrefix(section, "#before update\n") || !strings.Contains(section, "\nhostname: web\n") || !strings.Contains(section, "\nmemory: 512\n") ||
		!strings.Contains(section, "\nrootfs: local-lvm:vm-100-disk-0,size=4G\n") || strings.Contains(section, "the CT") ||
		strings.Contains(section, "lock:") || strings.Contains(section, "snapstate") || strings.Contains(section, "parent:") {
		t.Errorf("snapshot section:\n%s", section)
	}
	// GET config shows the current values and parent, never the section.
	cfg := c.do(http.MethodGet, ctPath+"100/config", nil).ok(t).object(t)
	if cfg["parent"] != "s1" || cfg["memory"] != float64(1024) || cfg["snaptime"] != nil || cfg["snapstate"] != nil || cfg["digest"] != ct.Digest {
		t.Errorf("GET config = %v", cfg)
	}

	e.snapshot(100, "s2", "")
	entries := e.list(100)
	s1, s2, cur := entries["s1"], entries["s2"], entries["current"]
	if len(entries) != 3 || s1 == nil || s2 == nil || cur == nil {
		t.Fatalf("snapshot list = %v", entries)
	}
	if snaptime, _ := s1["snaptime"].(float64); int64(snaptime) < before || int64(snaptime) > after {
		t.Errorf("s1 snaptime %v outside [%d, %d]", s1["snaptime"], before, after)
	}
	if s1["description"] != "before update\n" || s1["parent"] != nil || s2["description"] != "" || s2["parent"] != "s1" {
		t.Errorf("list entries s1 %v, s2 %v", s1, s2)
	}
	ct, _ = e.sim.Container(100)
	if cur["description"] != "You are here!" || cur["parent"] != "s2" || cur["running"] != float64(0) || cur["digest"] != ct.Digest || cur["snaptime"] != nil {
		t.Errorf("current entry %v", cur)
	}
	if err := pvesim.ParseCTConfig(ct.ConfigText); err != nil {
		t.Errorf("config file does not parse back: %v", err)
	}
	if m := e.sim.Memory(); m != nil {
		if got := strings.Join(m.Snapshots(100), ","); got != "s1,s2" {
			t.Errorf("memory backend holds snapshots %q", got)
		}
	}
	// The sub-commands of a snapshot, listed without any check (as PVE).
	var idx []map[string]string
	c.do(http.MethodGet, snapPath(100, "s1"), nil).ok(t).decode(t, &idx)
	c.do(http.MethodGet, snapPath(100, "nosuch"), nil).ok(t)
	if len(idx) != 2 || idx[0]["cmd"] != "rollback" || idx[1]["cmd"] != "config" {
		t.Errorf("snapshot index = %v", idx)
	}
	c.do(http.MethodGet, snapPath(999), nil).wantErr(t, 500, "Configuration file 'nodes/pve/lxc/999.conf' does not exist")
}

func testSnapshotNameErrors(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", nil)
	for _, name := range []string{"current", "vzdump"} {
		c.do(http.MethodPost, snapPath(100), url.Values{"snapname": {name}}).
			wantErr(t, 500, "unable to use snapshot name '"+name+"' (reserved name)")
	}
	c.do(http.MethodPost, snapPath(100), url.Values{"snapname": {"1st"}}).
		wantParamErr(t, map[string]string{"snapname": "invalid format - invalid configuration ID '1st'\n"})
	c.do(http.MethodPost, snapPath(100), url.Values{"snapname": {"a"}}).
		wantParamErr(t, map[string]string{"snapname": "invalid format - invalid configuration ID 'a'\n"})
	c.do(http.MethodPost, snapPath(100), url.Values{"snapname": {strings.Repeat("s", 41)}}).
		wantParamErr(t, map[string]string{"snapname": "value may only be 40 characters long"})
	c.do(http.MethodPost, snapPath(100), url.Values{}).
		wantParamErr(t, map[string]string{"snapname": "property is missing and it is not optional"})
	c.do(http.MethodDelete, snapPath(100, "bad.name"), nil).
		wantParamErr(t, map[string]string{"snapname": "invalid format - invalid configuration ID 'bad.name'\n"})
	c.do(http.MethodPost, snapPath(100, "s1", "rollback"), url.Values{"start": {"yes"}}).
		wantParamErr(t, map[string]string{"start": "type check ('boolean') failed - got 'yes'"})

	e.snapshot(100, "Snap_1-a", "")
	e.failedTask(http.MethodPost, snapPath(100), url.Values{"snapname": {"Snap_1-a"}}, "snapshot name 'Snap_1-a' already used")
	e.failedTask(http.MethodPost, snapPath(999), url.Values{"snapname": {"s1"}}, "Configuration file 'nodes/pve/lxc/999.conf' does not exist")
	e.failedTask(http.MethodDelete, snapPath(100, "nosuch"), nil, "snapshot 'nosuch' does not exist")
	e.failedTask(http.MethodPost, snapPath(100, "nosuch", "rollback"), url.Values{}, "snapshot 'nosuch' does not exist")
	if ct, _ := e.sim.Container(100); ct.Lock != "" {
		t.Errorf("failed tasks left lock %q", ct.Lock)
	}
}

func testSnapshotConfig(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", url.Values{"memory": {"768"}})
	e.snapshot(100, "s1", "first")
	got := c.do(http.MethodGet, snapPath(100, "s1", "config"), nil).ok(t).object(t)
	snaptime, _ := got["snaptime"].(float64)
	if got["memory"] != float64(768) || got["description"] != "first\n" || snaptime == 0 || got["digest"] != nil || got["lock"] != nil || got["parent"] != nil {
		t.Errorf("snapshot config = %v", got)
	}
	// GET config?snapshot= is the same section, with the file's digest.
	ct, _ := e.sim.Container(100)
	viaConfig := c.do(http.MethodGet, ctPath+"100/config", url.Values{"snapshot": {"s1"}}).ok(t).object(t)
	if viaConfig["memory"] != float64(768) || viaConfig["snaptime"] != got["snaptime"] || viaConfig["digest"] != ct.Digest {
		t.Errorf("config?snapshot=s1 = %v", viaConfig)
	}
	c.do(http.MethodGet, ctPath+"100/config", url.Values{"snapshot": {"nosuch"}}).wantErr(t, 500, "snapshot 'nosuch' does not exist")
	c.do(http.MethodGet, snapPath(100, "nosuch", "config"), nil).wantErr(t, 500, "snapshot 'nosuch' does not exist")

	if r := c.do(http.MethodPut, snapPath(100, "s1", "config"), url.Values{"description": {"line 1\nline: 2"}}).ok(t); string(r.Data) != "null" {
		t.Errorf("PUT snapshot config answered %s", r.Data)
	}
	if e.list(100)["s1"]["description"] != "line 1\nline: 2\n" {
		t.Errorf("list after the description update: %v", e.list(100)["s1"])
	}
	if ct, _ := e.sim.Container(100); !strings.Contains(ct.ConfigText, "\n[s1]\n#line 1\n#line%3A 2\n") {
		t.Errorf("config file after the description update:\n%s", ct.ConfigText)
	}
	c.do(http.MethodPut, snapPath(100, "s1", "config"), url.Values{"description": {""}}).ok(t)
	if d := e.list(100)["s1"]["description"]; d != "" {
		t.Errorf("description after clearing it = %q", d)
	}
	c.do(http.MethodPut, snapPath(100, "nosuch", "config"), url.Values{"description": {"x"}}).wantErr(t, 500, "snapshot 'nosuch' does not exist")
	// Without a description PVE returns before looking at anything.
	c.do(http.MethodPut, snapPath(100, "nosuch", "config"), url.Values{}).ok(t)
	c.do(http.MethodPut, snapPath(100, "s1", "config"), url.Values{"memory": {"1"}}).
		wantParamErr(t, map[string]string{"memory": "property is not defined in schema and the schema does not allow additional properties"})
}

func testSnapshotRollback(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", url.Values{"memory": {"512"}, "hostname": {"before"}, "description": {"kept"}})
	firstStart := c.mustTask(http.MethodPost, ctPath+"100/status/start", url.Values{})
	if e.lxc != nil {
		e.exec(100, "echo old > /root/managed && sync")
	}
	e.snapshot(100, "s1", "")
	if ct, _ := e.sim.Container(100); ct.Status != "running" {
		t.Fatalf("container status after a snapshot = %s, want running", ct.Status)
	}
	if e.lxc != nil {
		e.exec(100, "echo new > /root/managed && echo output > /root/script-output")
	}
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"memory": {"2048"}, "hostname": {"after"}, "description": {"current text"}, "nameserver": {"9.9.9.9"}}).ok(t)
	if ct, _ := e.sim.Container(100); ct.Config["memory"] != "2048" || ct.Pending["nameserver"] != "9.9.9.9" {
		t.Fatalf("a running CT hot-plugs memory and keeps nameserver pending: %+v", ct)
	}

	upid := c.do(http.MethodPost, snapPath(100, "s1", "rollback"), url.Values{"start": {"1"}}).ok(t).str(t)
	e.waitForLock(100, "rollback")
	if ct, _ := e.sim.Container(100); ct.Status != "stopped" {
		t.Errorf("status during the rollback = %s, want stopped", ct.Status)
	}
	if st := c.waitTask("pve", upid); st["exitstatus"] != "OK" {
		t.Fatalf("rollback: %v, log %q", st, e.sim.TaskLog(upid))
	}
	// start=1 forks a vzstart task of its own; it runs after the rollback.
	rollbackID, err := pveformat.ParseUPID(upid)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []map[string]any
	c.do(http.MethodGet, "/nodes/pve/tasks", url.Values{"vmid": {"100"}, "typefilter": {"vzstart"}, "source": {"all"}}).ok(t).decode(t, &tasks)
	startUPID := ""
	for _, task := range tasks { // newest first
		if st, _ := task["starttime"].(float64); int64(st) >= rollbackID.StartTime.Unix() && task["upid"] != firstStart {
			startUPID, _ = task["upid"].(string)
			break
		}
	}
	if startUPID == "" {
		t.Fatal("rollback with start=1 started no vzstart task")
	}
	if st := c.waitTask("pve", startUPID); st["exitstatus"] != "OK" {
		t.Fatalf("start after rollback: %v", st)
	}
	ct, _ := e.sim.Container(100)
	if ct.Status != "running" || ct.Lock != "" || ct.Config["memory"] != "512" || ct.Config["hostname"] != "before" ||
		ct.Config["parent"] != "s1" || ct.Config["description"] != "current text\n" || len(ct.Pending) != 0 {
		t.Errorf("after rollback: status %s lock %q config %v pending %v", ct.Status, ct.Lock, ct.Config, ct.Pending)
	}
	if e.lxc != nil {
		if got := e.exec(100, "cat /root/managed; test -e /root/script-output && echo script output survived; hostname"); got != "old\nbefore\n" {
			t.Errorf("container after rollback: %q, want the snapshot's file, no script output, the snapshot's hostname", got)
		}
	}
	if m := e.sim.Memory(); m != nil {
		if spec, _ := m.Spec(100); spec.MemoryMiB != 512 || spec.Hostname != "before" {
			t.Errorf("memory backend spec after rollback = %+v", spec)
		}
	}
	// Without start the container stays stopped; the snapshot can be used again.
	c.mustTask(http.MethodPost, snapPath(100, "s1", "rollback"), url.Values{})
	if ct, _ := e.sim.Container(100); ct.Status != "stopped" {
		t.Errorf("status after a rollback without start = %s", ct.Status)
	}
	if len(e.list(100)) != 2 {
		t.Errorf("rollback dropped the snapshot: %v", e.list(100))
	}
}

func testSnapshotDelete(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("101", nil)
	for _, name := range []string{"s1", "s2", "s3"} {
		e.snapshot(101, name, "")
	}
	upid := c.do(http.MethodDelete, snapPath(101, "s2"), nil).ok(t).str(t)
	e.waitForLock(101, "snapshot-delete")
	if st := c.waitTask("pve", upid); st["exitstatus"] != "OK" || !strings.Contains(upid, ":vzdelsnapshot:101:") {
		t.Fatalf("delete %s: %v", upid, st)
	}
	entries := e.list(101)
	if len(entries) != 3 || entries["s2"] != nil || entries["s3"]["parent"] != "s1" || entries["current"]["parent"] != "s3" {
		t.Errorf("after deleting s2: %v", entries)
	}
	c.mustTask(http.MethodDelete, snapPath(101, "s3"), url.Values{"force": {"1"}})
	c.mustTask(http.MethodDelete, snapPath(101, "s1"), nil)
	ct, _ := e.sim.Container(101)
	if entries := e.list(101); len(entries) != 1 || entries["current"]["parent"] != nil || strings.Contains(ct.ConfigText, "[") || ct.Lock != "" {
		t.Errorf("after deleting every snapshot: %v\n%s", entries, ct.ConfigText)
	}
	if m := e.sim.Memory(); m != nil && len(m.Snapshots(101)) != 0 {
		t.Errorf("memory backend still holds %v", m.Snapshots(101))
	}
	if e.lxc != nil {
		if entries, err := os.ReadDir(filepath.Join(e.lxc.LXCPath(), "101", "snapshots")); err != nil || len(entries) != 0 {
			t.Errorf("snapshot copies left: %v, %v", entries, err)
		}
	}
}

func testSnapshotStorageRefusal(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", url.Values{"storage": {"local-dir"}})
	if ct, _ := e.sim.Container(100); ct.Config["rootfs"] != "local-dir:100/vm-100-disk-0.raw,size=4G" {
		t.Fatalf("rootfs on the dir storage = %q", ct.Config["rootfs"])
	}
	e.failedTask(http.MethodPost, snapPath(100), url.Values{"snapname": {"s1"}}, "snapshot feature is not available")
	// A bind mount point cannot be snapshotted either (root@pam may add one).
	root := ticketClient(t, e.sim)
	c.createCT("101", nil)
	root.do(http.MethodPut, ctPath+"101/config", url.Values{"mp0": {"/srv/data,mp=/data"}}).ok(t)
	e.failedTask(http.MethodPost, snapPath(101), url.Values{"snapname": {"s1"}}, "snapshot feature is not available")
	for _, vmid := range []int{100, 101} {
		ct, _ := e.sim.Container(vmid)
		if ct.Lock != "" || strings.Contains(ct.ConfigText, "[s1]") || len(e.list(vmid)) != 1 {
			t.Errorf("CT %d after the refusal: lock %q\n%s", vmid, ct.Lock, ct.ConfigText)
		}
	}
}

func testSnapshotLocksTemplatesDestroy(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", nil)
	// A second snapshot while the first task runs finds the lock.
	upid := c.do(http.MethodPost, snapPath(100), url.Values{"snapname": {"s1"}}).ok(t).str(t)
	e.waitForLock(100, "snapshot")
	e.failedTask(http.MethodPost, snapPath(100), url.Values{"snapname": {"s2"}}, "CT is locked (snapshot)")
	// Rollback looks at the snapshot's state before the lock, as PVE does.
	e.failedTask(http.MethodPost, snapPath(100, "s1", "rollback"), url.Values{}, "unable to rollback to incomplete snapshot (snapstate = prepare)")
	e.failedTask(http.MethodDelete, snapPath(100, "s1"), nil, "CT is locked (snapshot)")
	c.do(http.MethodPut, snapPath(100, "s1", "config"), url.Values{"description": {"x"}}).wantErr(t, 500, "CT is locked (snapshot)")
	if st := c.waitTask("pve", upid); st["exitstatus"] != "OK" {
		t.Fatalf("snapshot: %v", st)
	}
	c.do(http.MethodPost, ctPath+"100/template", url.Values{}).wantErr(t, 500, "unable to create template, because CT contains snapshots")

	c.createCT("101", nil)
	if r := c.do(http.MethodPost, ctPath+"101/template", url.Values{}).ok(t); string(r.Data) != "null" {
		t.Fatalf("template: %s", r.Data)
	}
	e.waitForTemplate(101)
	e.failedTask(http.MethodPost, snapPath(101), url.Values{"snapname": {"s1"}}, "you can't take a snapshot if it's a template")

	// A clone does not inherit snapshots or the parent link.
	c.mustTask(http.MethodPost, ctPath+"100/clone", url.Values{"newid": {"102"}})
	if clone, _ := e.sim.Container(102); clone.Config["parent"] != "" || strings.Contains(clone.ConfigText, "[s1]") {
		t.Errorf("clone config:\n%s", clone.ConfigText)
	}
	c.do(http.MethodPost, ctPath+"100/clone", url.Values{"newid": {"103"}, "snapname": {"nosuch"}}).wantErr(t, 500, "snapshot 'nosuch' does not exist")

	// Destroying a container removes its snapshots with it.
	c.mustTask(http.MethodDelete, ctPath+"100", url.Values{"purge": {"1"}})
	if m := e.sim.Memory(); m != nil && m.Snapshots(100) != nil {
		t.Errorf("memory backend kept snapshots %v", m.Snapshots(100))
	}
	if e.lxc != nil {
		if _, err := os.Stat(filepath.Join(e.lxc.LXCPath(), "100")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("container directory with its snapshots after destroy: %v", err)
		}
	}
	c.createCT("100", nil)
	if entries := e.list(100); len(entries) != 1 {
		t.Errorf("a new CT 100 lists %v", entries)
	}
}

// waitForTemplate waits for a template conversion to finish.
func (e *snapshotEnv) waitForTemplate(vmid int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ct, _ := e.sim.Container(vmid); ct.Config["template"] == "1" && ct.Lock == "" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("CT %d never became a template", vmid)
}

func testSnapshotTaskFailure(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", nil)
	if _, err := e.sim.Faults().Add(pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzsnapshot", Message: "lvcreate snapshot 'pve/snap_vm-100-disk-0_s1' error: out of space", Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.failedTask(http.MethodPost, snapPath(100), url.Values{"snapname": {"s1"}}, "lvcreate snapshot 'pve/snap_vm-100-disk-0_s1' error: out of space")
	ct, _ := e.sim.Container(100)
	if ct.Lock != "" || strings.Contains(ct.ConfigText, "[s1]") || ct.Config["parent"] != "" {
		t.Errorf("after a failed snapshot: lock %q\n%s", ct.Lock, ct.ConfigText)
	}
	e.snapshot(100, "s1", "")
	if _, err := e.sim.Faults().Add(pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzrollback", Message: "interrupted", Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.failedTask(http.MethodPost, snapPath(100, "s1", "rollback"), url.Values{}, "interrupted")
	if ct, _ := e.sim.Container(100); ct.Lock != "" {
		t.Errorf("lock after a failed rollback task: %q", ct.Lock)
	}
}

// TestSnapshotsSurviveRestart keeps snapshots in the state directory: the
// config sections come back, and the memory backend holds them again.
func TestSnapshotsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startIn(t, dir, pvesimtest.WithTemplates(debian12))
	c := tokenClient(t, srv)
	c.createCT("100", url.Values{"memory": {"512"}})
	c.mustTask(http.MethodPost, snapPath(100), url.Values{"snapname": {"s1"}, "description": {"kept"}})
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"memory": {"1024"}}).ok(t)
	before, _ := srv.Container(100)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv2 := startIn(t, dir)
	defer func() { _ = srv2.Close() }()
	c2 := tokenClient(t, srv2)
	after, _ := srv2.Container(100)
	if after.ConfigText != before.ConfigText || !strings.Contains(after.ConfigText, "[s1]") {
		t.Fatalf("config after restart:\n%s\nbefore:\n%s", after.ConfigText, before.ConfigText)
	}
	if got := srv2.Memory().Snapshots(100); len(got) != 1 || got[0] != "s1" {
		t.Errorf("memory backend snapshots after restart = %v", got)
	}
	var entries []map[string]any
	c2.do(http.MethodGet, snapPath(100), nil).ok(t).decode(t, &entries)
	if len(entries) != 2 || entries[0]["name"] != "s1" || entries[0]["description"] != "kept\n" || entries[1]["parent"] != "s1" {
		t.Errorf("list after restart = %v", entries)
	}
	c2.mustTask(http.MethodPost, snapPath(100, "s1", "rollback"), url.Values{})
	if ct, _ := srv2.Container(100); ct.Config["memory"] != "512" {
		t.Errorf("memory after a rollback across the restart = %q", ct.Config["memory"])
	}
}

func testSnapshotKeepsVolumes(e *snapshotEnv) {
	t, c := e.t, e.c
	c.createCT("100", url.Values{"rootfs": {"local-lvm:4"}, "mp0": {"local-lvm:1,mp=/data"}})
	e.snapshot(100, "s1", "")
	// Removing the mount point leaves its volume unused; removing that
	// entry does not free a volume the snapshot still holds.
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"delete": {"mp0"}}).ok(t)
	if ct, _ := e.sim.Container(100); ct.Config["unused0"] != "local-lvm:vm-100-disk-1" {
		t.Fatalf("after deleting mp0: %v", ct.Config)
	}
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"delete": {"unused0"}}).ok(t)
	if vols := e.sim.Volumes("pve", "local-lvm"); len(vols) != 2 {
		t.Fatalf("volumes after deleting unused0 = %+v, want the snapshot's mount point kept", vols)
	}
	// Rolling back brings the mount point back; deleting the snapshot
	// leaves no volume unaccounted for.
	c.mustTask(http.MethodPost, snapPath(100, "s1", "rollback"), url.Values{})
	if ct, _ := e.sim.Container(100); ct.Config["mp0"] != "local-lvm:vm-100-disk-1,mp=/data,size=1G" {
		t.Errorf("mp0 after rollback = %q", ct.Config["mp0"])
	}
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"delete": {"mp0"}}).ok(t)
	c.mustTask(http.MethodDelete, snapPath(100, "s1"), nil)
	if ct, _ := e.sim.Container(100); ct.Config["unused0"] != "local-lvm:vm-100-disk-1" {
		t.Errorf("after deleting the snapshot: %v", ct.Config)
	}
	c.do(http.MethodPut, ctPath+"100/config", url.Values{"delete": {"unused0"}}).ok(t)
	if vols := e.sim.Volumes("pve", "local-lvm"); len(vols) != 1 {
		t.Errorf("volumes once nothing uses the mount point = %+v", vols)
	}
}

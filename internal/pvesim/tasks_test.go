package pvesim_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

var upidRE = regexp.MustCompile(`^UPID:pve:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:download:debian-12-standard_12\.7-1_amd64\.tar\.zst:root@pam!sim:$`)

func TestTaskLifecycleStatusAndLog(t *testing.T) {
	sim := pvesimtest.New(t, pvesimtest.WithTaskDurationFor("download", 300*time.Millisecond), pvesimtest.WithTaskDuration(5*time.Millisecond))
	c := tokenClient(t, sim)
	upid := c.do(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}}).ok(t).str(t)
	if !upidRE.MatchString(upid) {
		t.Fatalf("UPID %q has not PVE's form (with the token id and a trailing colon)", upid)
	}
	u, err := pveformat.ParseUPID(upid)
	if err != nil {
		t.Fatal(err)
	}
	st := c.do(http.MethodGet, "/nodes/pve/tasks/"+upid+"/status", nil).ok(t).object(t)
	want := map[string]any{"status": "running", "type": "download", "user": "root@pam", "tokenid": "sim", "node": "pve",
		"id": debian12, "upid": upid, "starttime": float64(u.StartTime.Unix()), "pid": float64(u.PID)}
	for k, v := range want {
		if st[k] != v {
			t.Errorf("status[%s] = %#v, want %#v", k, st[k], v)
		}
	}
	if _, ok := st["exitstatus"]; ok {
		t.Errorf("running task has an exitstatus: %v", st)
	}
	final := c.waitTask("pve", upid)
	if final["exitstatus"] != "OK" {
		t.Fatalf("download task: %v", final)
	}
	log := c.do(http.MethodGet, "/nodes/pve/tasks/"+upid+"/log", nil).ok(t)
	var lines []struct {
		N int    `json:"n"`
		T string `json:"t"`
	}
	log.decode(t, &lines)
	if log.Total == nil || *log.Total != len(lines) || len(lines) < 3 {
		t.Fatalf("log total %v, %d lines", log.Total, len(lines))
	}
	if lines[0].N != 1 || lines[len(lines)-1].T != "TASK OK" || lines[len(lines)-1].N != len(lines) {
		t.Errorf("log = %+v", lines)
	}
	page := c.do(http.MethodGet, "/nodes/pve/tasks/"+upid+"/log", url.Values{"start": {"1"}, "limit": {"1"}}).ok(t)
	var one []struct {
		N int    `json:"n"`
		T string `json:"t"`
	}
	page.decode(t, &one)
	if len(one) != 1 || one[0].N != 2 || one[0].T != lines[1].T || *page.Total != len(lines) {
		t.Errorf("page = %+v total %v", one, *page.Total)
	}
	// The task shows up in /cluster/tasks and /nodes/pve/tasks.
	var list []map[string]any
	c.do(http.MethodGet, "/cluster/tasks", nil).ok(t).decode(t, &list)
	if len(list) != 1 || list[0]["upid"] != upid || list[0]["status"] != "OK" || list[0]["endtime"] == nil {
		t.Errorf("cluster tasks = %v", list)
	}
	c.do(http.MethodGet, "/nodes/pve/tasks", url.Values{"typefilter": {"download"}}).ok(t).decode(t, &list)
	if len(list) != 1 {
		t.Errorf("node tasks = %v", list)
	}
}

func TestTaskLookupErrors(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.do(http.MethodGet, "/nodes/pve/tasks/garbage/status", nil).wantParamErr(t, map[string]string{"upid": "unable to parse worker upid"})
	c.do(http.MethodGet, "/nodes/pve/tasks/UPID:pve:00001234:00001234:66000000:vzstart:100:root@pam:/status", nil).
		wantParamErr(t, map[string]string{"upid": "no such task"})
	c.do(http.MethodGet, "/nodes/pve/tasks/UPID:pve:00001234:00001234:66000000:vzstart:100:root@pam:/log", nil).
		wantParamErr(t, map[string]string{"upid": "no such task"})
}

func TestTaskFailureWarningsAndInterrupt(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)

	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzstart", Message: "startup for container '100' failed", Count: 1})
	upid := c.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{}).ok(t).str(t)
	st := c.waitTask("pve", upid)
	if st["exitstatus"] != "startup for container '100' failed" {
		t.Fatalf("exitstatus = %v", st["exitstatus"])
	}
	if log := sim.TaskLog(upid); log[len(log)-1] != "TASK ERROR: startup for container '100' failed" {
		t.Errorf("last log line = %q", log[len(log)-1])
	}
	if ct, _ := sim.Container(100); ct.Status != "stopped" {
		t.Errorf("CT runs after a failed start")
	}

	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultTaskWarn, TaskType: "vzstart", Message: "something odd", Count: 1})
	upid = c.do(http.MethodPost, "/nodes/pve/lxc/100/status/start", url.Values{}).ok(t).str(t)
	st = c.waitTask("pve", upid)
	if st["exitstatus"] != "WARNINGS: 1" {
		t.Fatalf("exitstatus = %v", st["exitstatus"])
	}
	log := sim.TaskLog(upid)
	if log[len(log)-1] != "TASK WARNINGS: 1" || !strings.Contains(strings.Join(log, "\n"), "WARN: something odd") {
		t.Errorf("log = %q", log)
	}

	// A slow task can be stopped with DELETE.
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultTaskSlow, TaskType: "vzstop", Delay: time.Minute, Count: 1})
	upid = c.do(http.MethodPost, "/nodes/pve/lxc/100/status/stop", url.Values{}).ok(t).str(t)
	c.do(http.MethodDelete, "/nodes/pve/tasks/"+upid, nil).ok(t)
	if st := c.waitTask("pve", upid); st["exitstatus"] != "received interrupt" {
		t.Fatalf("interrupted task: %v", st)
	}
}

func TestCreateFailureByFaultRollsBack(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzcreate", Message: "disk full"})
	upid := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}).ok(t).str(t)
	if st := c.waitTask("pve", upid); st["exitstatus"] != "disk full" {
		t.Fatalf("exitstatus = %v", st["exitstatus"])
	}
	if _, ok := sim.Container(100); ok || len(sim.Volumes("pve", "local-lvm")) != 0 {
		t.Error("failed create left a config or volumes")
	}
}

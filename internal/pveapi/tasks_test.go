package pveapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/clocktest"
)

func TestWaitTaskSuccessAfterRunning(t *testing.T) {
	var polls atomic.Int32
	path := apiPath("nodes", "pve", "tasks", testUPIDCreate)
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET " + path + "/status": func(w http.ResponseWriter, _ *http.Request) {
			if polls.Add(1) < 3 {
				writeData(w, map[string]any{"upid": testUPIDCreate, "status": "running", "pid": "883362"})
				return
			}
			writeData(w, map[string]any{"upid": testUPIDCreate, "status": "stopped", "exitstatus": "OK"})
		},
	})
	c := newTestClient(t, f, nil)
	res, err := c.WaitTask(t.Context(), testUPIDCreate)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitStatus != "OK" || len(res.Warnings) != 0 || res.UPID.Type != "vzcreate" || res.UPID.ID != "100" || res.UPID.User != "root@pam!tf" {
		t.Errorf("result = %+v", res)
	}
	if polls.Load() != 3 {
		t.Errorf("polls = %d, want 3", polls.Load())
	}
	if n := f.count(http.MethodGet, path+"/log"); n != 0 {
		t.Errorf("a clean success needs no log, read it %d times", n)
	}
	// PVE unescapes the whole path before matching (pve-http-server), so the
	// UPID arrives intact.
	got, err := url.PathUnescape(f.recorded()[0].Path)
	if err != nil || got != "/nodes/pve/tasks/"+testUPIDCreate+"/status" {
		t.Errorf("status path = %q (%v)", got, err)
	}
}

func TestWaitTaskWarningsAreSurfaced(t *testing.T) {
	log := []string{
		"extracting archive '/var/lib/vz/template/cache/debian-12-standard_12.7-1_amd64.tar.zst'",
		"WARN: no systemd-networkd unit found",
		"Total bytes read: 524288000 (500MiB, 100MiB/s)",
		"WARN: ignoring unused0 for new CT",
		"TASK WARNINGS: 2",
	}
	f := newFakePVE(t, taskRoutes(testUPIDCreate, "WARNINGS: 2", log))
	c := newTestClient(t, f, nil)
	res, err := c.WaitTask(t.Context(), testUPIDCreate)
	if err != nil {
		t.Fatalf("WARNINGS is a success: %v", err)
	}
	want := []string{"no systemd-networkd unit found", "ignoring unused0 for new CT"}
	if !reflect.DeepEqual(res.Warnings, want) {
		t.Errorf("warnings = %q, want %q", res.Warnings, want)
	}
	if !reflect.DeepEqual(res.Log, log) {
		t.Errorf("log = %q", res.Log)
	}
}

func TestWaitTaskFailureCarriesLogTail(t *testing.T) {
	var log []string
	for i := 1; i <= 530; i++ {
		log = append(log, fmt.Sprintf("line %d", i))
	}
	log = append(log, "TASK ERROR: unable to create CT 100 - can't find file 'local:vztmpl/missing.tar.zst'")
	f := newFakePVE(t, taskRoutes(testUPIDCreate, "unable to create CT 100 - can't find file 'local:vztmpl/missing.tar.zst'", log))
	c := newTestClient(t, f, nil)
	_, err := c.WaitTask(t.Context(), testUPIDCreate)
	var taskErr *TaskError
	if !errors.As(err, &taskErr) {
		t.Fatalf("err = %v, want *TaskError", err)
	}
	if taskErr.ExitStatus != "unable to create CT 100 - can't find file 'local:vztmpl/missing.tar.zst'" {
		t.Errorf("exit status = %q", taskErr.ExitStatus)
	}
	if len(taskErr.LogTail) != 20 || taskErr.LogTail[19] != log[len(log)-1] || taskErr.LogTail[0] != "line 512" {
		t.Errorf("log tail = %q", taskErr.LogTail)
	}
	msg := err.Error()
	if !strings.Contains(msg, "task vzcreate 100 on node pve failed: unable to create CT 100") || !strings.Contains(msg, "line 530") {
		t.Errorf("error text = %q", msg)
	}
}

func TestWaitTaskToleratesNoSuchTaskRightAfterStart(t *testing.T) {
	var polls atomic.Int32
	path := apiPath("nodes", "pve", "tasks", testUPIDCreate)
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET " + path + "/status": func(w http.ResponseWriter, _ *http.Request) {
			if polls.Add(1) == 1 {
				writePVEError(w, http.StatusBadRequest, "Parameter verification failed.", map[string]string{"upid": "no such task"})
				return
			}
			writeData(w, map[string]any{"upid": testUPIDCreate, "status": "stopped", "exitstatus": "OK"})
		},
	})
	c := newTestClient(t, f, nil)
	if _, err := c.WaitTask(t.Context(), testUPIDCreate); err != nil {
		t.Fatal(err)
	}
}

func TestWaitTaskNoSuchTaskAfterGraceFails(t *testing.T) {
	path := apiPath("nodes", "pve", "tasks", testUPIDCreate)
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET " + path + "/status": func(w http.ResponseWriter, _ *http.Request) {
			writePVEError(w, http.StatusBadRequest, "Parameter verification failed.", map[string]string{"upid": "no such task"})
		},
	})
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	c := newTestClient(t, f, func(cfg *Config) {
		cfg.Now = func() time.Time { clock.Advance(time.Second); return clock.Now() }
		cfg.TaskPoll.NotFoundGrace = 3 * time.Second
	})
	_, err := c.WaitTask(t.Context(), testUPIDCreate)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want not found after the grace period", err)
	}
}

func TestWaitTaskEndsWithContext(t *testing.T) {
	path := apiPath("nodes", "pve", "tasks", testUPIDCreate)
	polled := make(chan struct{}, 1)
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET " + path + "/status": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, map[string]any{"upid": testUPIDCreate, "status": "running"})
			select {
			case polled <- struct{}{}:
			default:
			}
		},
	})
	c := newTestClient(t, f, func(cfg *Config) { cfg.TaskPoll = TaskPollPolicy{Initial: time.Hour} })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		<-polled // the first poll has been answered; the next is an hour away
		cancel()
	}()
	_, err := c.WaitTask(ctx, testUPIDCreate)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the context's cancellation", err)
	}
	if n := f.count(http.MethodGet, path+"/status"); n != 1 {
		t.Errorf("polls = %d, want 1 (the next poll is an hour away)", n)
	}
}

func TestWaitTaskRejectsMalformedUPID(t *testing.T) {
	f := newFakePVE(t, nil)
	c := newTestClient(t, f, nil)
	if _, err := c.WaitTask(t.Context(), "UPID:pve:bad"); err == nil {
		t.Fatal("want an error for a malformed UPID")
	}
	if len(f.recorded()) != 0 {
		t.Error("a malformed UPID must not reach the server")
	}
}

func TestFailedTaskIsNeverRedispatched(t *testing.T) {
	routes := taskRoutes(testUPIDCreate, "unable to create CT 100 - no space left on device", []string{"TASK ERROR: unable to create CT 100 - no space left on device"})
	routes["POST /nodes/pve/lxc"] = func(w http.ResponseWriter, _ *http.Request) { writeData(w, testUPIDCreate) }
	f := newFakePVE(t, routes)
	c := newTestClient(t, f, nil)
	_, err := c.CreateContainer(t.Context(), "pve", 100, NewParams().Set("ostemplate", "local:vztmpl/debian.tar.zst"))
	var taskErr *TaskError
	if !errors.As(err, &taskErr) {
		t.Fatalf("err = %v, want *TaskError", err)
	}
	if n := f.count(http.MethodPost, "/nodes/pve/lxc"); n != 1 {
		t.Errorf("create sent %d times, want exactly once", n)
	}
}

package pveapi_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// lostCreateAnswer is the simulator fault of issue 15: the create is
// carried out, its answer never arrives.
var lostCreateAnswer = pvesim.Fault{Kind: pvesim.FaultLostAnswer, Method: http.MethodPost, Path: "/nodes/*/lxc", Count: 1}

// A create whose answer is lost is ambiguous, with a fixed or an allocated
// VMID: the error names the VMID, the request is not sent again, and the
// container does exist.
func TestLostCreateAnswerIsAmbiguous(t *testing.T) {
	creates := []struct {
		name   string
		create func(e *env) (int, error)
	}{
		{"fixed vmid", func(e *env) (int, error) {
			_, err := e.c.CreateContainerAsync(e.ctx, node, 150, containerParams("lost"))
			return 150, err
		}},
		{"allocated vmid", func(e *env) (int, error) {
			vmid, _, err := e.c.CreateContainerAutoAsync(e.ctx, node, containerParams("lost"))
			return vmid, err
		}},
		{"allocated vmid, waiting variant", func(e *env) (int, error) {
			vmid, _, err := e.c.CreateContainerAuto(e.ctx, node, containerParams("lost"))
			return vmid, err
		}},
	}
	for _, tc := range creates {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, authModes[0], []pvesimtest.Option{withDebian, pvesimtest.WithFault(lostCreateAnswer)}, nil)
			vmid, err := tc.create(e)
			var amb *pveapi.AmbiguousCreateError
			if !errors.As(err, &amb) || amb.VMID != vmid {
				t.Fatalf("vmid %d, err = %v (%T); want an *AmbiguousCreateError for it", vmid, err, err)
			}
			if strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "may have created it") {
				t.Errorf("error text %q", err)
			}
			var terr *pveapi.TransportError
			if !errors.As(err, &terr) || !terr.Sent {
				t.Errorf("the cause is not a transport error after sending: %v", err)
			}
			if n := len(e.requests(http.MethodPost, "/nodes/pve/lxc")); n != 1 {
				t.Errorf("%d create requests, want 1: an ambiguous create is never sent again", n)
			}
			if n := len(e.requests(http.MethodGet, "/cluster/nextid")); n > 1 {
				t.Errorf("nextid asked %d times: an ambiguous create must not move on to another id", n)
			}
			if _, ok := e.sim.Container(vmid); !ok {
				t.Errorf("container %d does not exist, yet PVE carried the create out", vmid)
			}
		})
	}
}

// A clone whose answer is lost is ambiguous too.
func TestLostCloneAnswerIsAmbiguous(t *testing.T) {
	e := newEnv(t, authModes[0], []pvesimtest.Option{withDebian}, nil)
	src := e.create("golden")
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLostAnswer, Method: http.MethodPost, Path: "/nodes/*/lxc/*/clone", Count: 1})
	newid, _, err := e.c.CloneContainerAutoAsync(e.ctx, node, src, pveapi.CloneOptions{Hostname: "copy"})
	var amb *pveapi.AmbiguousCreateError
	if !errors.As(err, &amb) || amb.VMID != newid || newid == src {
		t.Fatalf("newid %d, err = %v; want an ambiguous clone of the new id", newid, err)
	}
	if _, ok := e.sim.Container(newid); !ok {
		t.Errorf("clone %d does not exist", newid)
	}
}

// A definite refusal by PVE stays a plain error: it is not ambiguous.
func TestCreateRefusalIsNotAmbiguous(t *testing.T) {
	e := newEnv(t, authModes[0], []pvesimtest.Option{withDebian}, nil)
	e.create("first")
	var amb *pveapi.AmbiguousCreateError
	_, err := e.c.CreateContainerAsync(e.ctx, node, 100, containerParams("again"))
	if !errors.Is(err, pveapi.ErrAlreadyExists) || errors.As(err, &amb) {
		t.Errorf("taken id: %v", err)
	}
	_, err = e.c.CreateContainerAsync(e.ctx, node, 101, containerParams("bad").Set("net0", "bridge=vmbr0"))
	if wantAPIError(t, err, http.StatusBadRequest, "Parameter verification failed."); errors.As(err, &amb) {
		t.Errorf("parameter error is ambiguous: %v", err)
	}
	_, err = e.c.CreateContainerAsync(e.ctx, node, 102, containerParams("local").Set("rootfs", "local:4"))
	if errors.As(err, &amb) || err == nil {
		t.Errorf("storage refusal: %v", err)
	}
}

// Start, stop, shutdown, reboot and destroy tasks that fail on the config
// lock did nothing and are dispatched again (bounded); a task failing for
// another reason is not.
func TestConfigLockTimeoutTasksAreDispatchedAgain(t *testing.T) {
	e := newEnv(t, authModes[0], []pvesimtest.Option{withDebian}, nil)
	vmid := e.create("web1")
	lockTimeoutOnce := func(path string) {
		e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Method: http.MethodPost, Path: path, Count: 1})
	}
	steps := []struct {
		name, method, path, taskType string
		run                          func() (*pveapi.TaskResult, error)
		status                       string
	}{
		{"start", http.MethodPost, "/nodes/pve/lxc/100/status/start", "vzstart",
			func() (*pveapi.TaskResult, error) { return e.c.StartContainer(e.ctx, node, vmid) }, "running"},
		{"reboot", http.MethodPost, "/nodes/pve/lxc/100/status/reboot", "vzreboot",
			func() (*pveapi.TaskResult, error) { return e.c.RebootContainer(e.ctx, node, vmid) }, "running"},
		{"shutdown", http.MethodPost, "/nodes/pve/lxc/100/status/shutdown", "vzshutdown",
			func() (*pveapi.TaskResult, error) { return e.c.ShutdownContainer(e.ctx, node, vmid, 10, true) }, "stopped"},
	}
	for _, st := range steps {
		lockTimeoutOnce(st.path)
		res, err := st.run()
		wantTask(t, res, err, st.taskType)
		if got := e.container(vmid).Status; got != st.status {
			t.Errorf("%s: status %s, want %s", st.name, got, st.status)
		}
		if got := statuses(e.requests(st.method, st.path)); !slices.Equal(got, []int{200, 200}) {
			t.Errorf("%s: requests %v, want two dispatches (the first task failed on the lock)", st.name, got)
		}
	}
	// stop: start it again first (no fault), then stop through a lock timeout.
	_, err := e.c.StartContainer(e.ctx, node, vmid)
	mustOK(t, "StartContainer", err)
	lockTimeoutOnce("/nodes/pve/lxc/100/status/stop")
	res, err := e.c.StopContainer(e.ctx, node, vmid)
	wantTask(t, res, err, "vzstop")
	if got := len(e.requests(http.MethodPost, "/nodes/pve/lxc/100/status/stop")); got != 2 {
		t.Errorf("stop dispatched %d times, want 2", got)
	}

	// A lock that stays taken: the policy's limit (4 retries by default) ends it.
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLockTimeout, Method: http.MethodPost, Path: "/nodes/pve/lxc/100/status/start", Count: 50})
	startsBefore := len(e.requests(http.MethodPost, "/nodes/pve/lxc/100/status/start"))
	_, err = e.c.StartContainer(e.ctx, node, vmid)
	var taskErr *pveapi.TaskError
	if !errors.As(err, &taskErr) || taskErr.ExitStatus != "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout" {
		t.Fatalf("StartContainer under a held lock = %v", err)
	}
	if got := len(e.requests(http.MethodPost, "/nodes/pve/lxc/100/status/start")) - startsBefore; got != 5 {
		t.Errorf("start dispatched %d times, want 5 (the first and 4 retries)", got)
	}
	e.sim.Faults().Clear()

	// The Async variant dispatches once; so does a task failing otherwise.
	lockTimeoutOnce("/nodes/pve/lxc/100/status/start")
	upid, err := e.c.StartContainerAsync(e.ctx, node, vmid)
	mustOK(t, "StartContainerAsync", err)
	if _, err := e.c.WaitTask(e.ctx, upid); !errors.As(err, &taskErr) {
		t.Errorf("WaitTask of the locked start = %v", err)
	}
	e.sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzstart", Message: "startup for container '100' failed", Count: 1})
	before := len(e.requests(http.MethodPost, "/nodes/pve/lxc/100/status/start"))
	if _, err := e.c.StartContainer(e.ctx, node, vmid); !errors.As(err, &taskErr) {
		t.Errorf("failing start = %v", err)
	}
	if got := len(e.requests(http.MethodPost, "/nodes/pve/lxc/100/status/start")) - before; got != 1 {
		t.Errorf("a start failing for another reason was dispatched %d times", got)
	}

	// destroy
	lockTimeoutDelete := pvesim.Fault{Kind: pvesim.FaultLockTimeout, Method: http.MethodDelete, Path: "/nodes/pve/lxc/100", Count: 1}
	e.sim.Faults().MustAdd(lockTimeoutDelete)
	res, err = e.c.DeleteContainer(e.ctx, node, vmid, pveapi.DeleteContainerOptions{Purge: true})
	wantTask(t, res, err, "vzdestroy")
	if _, ok := e.sim.Container(vmid); ok {
		t.Error("container still exists after the retried destroy")
	}
	if got := statuses(e.requests(http.MethodDelete, "/nodes/pve/lxc/100")); !slices.Equal(got, []int{200, 200}) {
		t.Errorf("DELETE requests %v, want two dispatches", got)
	}
}

// CreateLockIsStale tells a running create from one that died and left
// "lock: create" behind.
func TestCreateLockIsStale(t *testing.T) {
	e := newEnv(t, authModes[1], []pvesimtest.Option{withDebian, pvesimtest.WithTaskDurationFor("vzcreate", 600*time.Millisecond)}, nil)
	upid, err := e.c.CreateContainerAsync(e.ctx, node, 100, containerParams("slow"))
	mustOK(t, "CreateContainerAsync", err)
	cfg, err := e.c.ContainerConfig(e.ctx, node, 100)
	mustOK(t, "ContainerConfig", err)
	if !cfg.LockedByCreate() || cfg.Lock() != pveapi.LockCreate {
		t.Fatalf("config during the create: lock %q", cfg.Lock())
	}
	if stale, err := e.c.CreateLockIsStale(e.ctx, node, 100); err != nil || stale {
		t.Errorf("while the create runs: stale=%v, %v", stale, err)
	}
	_, err = e.c.WaitTask(e.ctx, upid)
	mustOK(t, "WaitTask", err)
	if stale, err := e.c.CreateLockIsStale(e.ctx, node, 100); err != nil || stale {
		t.Errorf("after the create: stale=%v, %v", stale, err)
	}
	// A create lock nothing holds, as a crashed create leaves it.
	mustOK(t, "set lock", e.c.UpdateContainerConfig(e.ctx, node, 100, pveapi.NewParams().Set("lock", "create"), ""))
	if stale, err := e.c.CreateLockIsStale(e.ctx, node, 100); err != nil || !stale {
		t.Errorf("left-behind lock: stale=%v, %v", stale, err)
	}
	if _, err := e.c.CreateLockIsStale(e.ctx, node, 999); !errors.Is(err, pveapi.ErrNotFound) {
		t.Errorf("missing container: %v", err)
	}
}

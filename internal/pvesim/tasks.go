package pvesim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// task is one worker PVE would fork: a UPID, a log, a status.
type task struct {
	UPID     pveformat.UPID
	upid     string
	cancel   context.CancelFunc
	done     chan struct{}
	faults   []Fault
	lockFail bool // lock-timeout fault of the request that started it

	mu         sync.Mutex
	running    bool
	end        time.Time
	exitStatus string
	lines      []string
	warnings   int
}

// taskRecord is a task as persisted in the state directory.
type taskRecord struct {
	UPID       string    `json:"upid"`
	Running    bool      `json:"running"`
	End        time.Time `json:"end,omitzero"`
	ExitStatus string    `json:"exitstatus,omitempty"`
	Lines      []string  `json:"lines"`
	Warnings   int       `json:"warnings,omitempty"`
}

// taskLog is what a worker writes to.
type taskLog interface {
	log(format string, args ...any)
	warn(format string, args ...any)
}

func (t *task) log(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n")...)
}

func (t *task) warn(format string, args ...any) {
	t.mu.Lock()
	t.warnings++
	t.mu.Unlock()
	t.log("WARN: "+format, args...)
}

// errInterrupted is what a worker reports when its task is stopped.
var errInterrupted = errors.New("received interrupt")

// injectedTaskError is a task-fail fault's error: its text is the exitstatus.
type injectedTaskError struct{ msg string }

func (e *injectedTaskError) Error() string { return e.msg }

// taskWork is the simulated duration of one worker step, and the point
// where injected task faults fire. The log so far is saved first: PVE's
// task log is a file written line by line, so a worker that dies during
// the step leaves it behind.
func (s *Server) taskWork(ctx context.Context, t *task, d time.Duration) error {
	s.persist()
	for _, f := range t.faults {
		if f.Kind == FaultTaskSlow {
			d += f.Delay
		}
	}
	if d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return errInterrupted
		}
	}
	for _, f := range t.faults {
		if f.Kind == FaultTaskFail {
			return &injectedTaskError{msg: f.Message}
		}
	}
	return nil
}

// workerFunc is a task body; its error becomes the task's exitstatus.
type workerFunc func(ctx context.Context, t *task) error

// startTask forks a worker: the task is registered as running at once and
// its UPID returned; fn runs in the background.
func (s *Server) startTask(node, typ, id string, who principal, vmid int, lockFail bool, fn workerFunc) *task {
	now := s.now()
	s.tasksMu.Lock()
	s.nextPID++
	u := pveformat.UPID{
		Node: node, PID: s.nextPID, PStart: uint64(now.Sub(s.bootTime)/(10*time.Millisecond)) + 1200, //nolint:gosec // uptime in jiffies is positive.
		StartTime: now, Type: typ, ID: id, User: who.ID(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	if lockFail {
		ctx = withForcedLockTimeout(ctx)
	}
	t := &task{UPID: u, upid: u.String(), cancel: cancel, done: make(chan struct{}), running: true, lockFail: lockFail}
	t.faults = s.faults.forTask(typ, vmid)
	s.tasks[t.upid] = t
	s.taskOrder = append(s.taskOrder, t)
	s.tasksMu.Unlock()
	for _, f := range t.faults {
		if f.Kind == FaultTaskWarn {
			msg := f.Message
			if msg == "" {
				msg = "injected warning"
			}
			t.warn("%s", msg)
		}
	}
	s.persist()
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		defer cancel()
		err := fn(ctx, t)
		s.finishTask(t, err)
	}()
	return t
}

func (s *Server) finishTask(t *task, err error) {
	t.mu.Lock()
	t.running = false
	t.end = s.now()
	switch {
	case err != nil:
		t.exitStatus = strings.TrimRight(err.Error(), "\n")
		t.lines = append(t.lines, "TASK ERROR: "+t.exitStatus)
	case t.warnings > 0:
		t.exitStatus = fmt.Sprintf("WARNINGS: %d", t.warnings)
		t.lines = append(t.lines, "TASK "+t.exitStatus)
	default:
		t.exitStatus = "OK"
		t.lines = append(t.lines, "TASK OK")
	}
	t.mu.Unlock()
	close(t.done)
	s.persist()
}

func (t *task) record() taskRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return taskRecord{UPID: t.upid, Running: t.running, End: t.end, ExitStatus: t.exitStatus,
		Lines: append([]string(nil), t.lines...), Warnings: t.warnings}
}

// restoreTask rebuilds a persisted task; one that was still running when
// the simulator stopped ends with "unexpected status", as PVE reports a
// worker that vanished.
func restoreTask(r taskRecord, now time.Time) (*task, error) {
	u, err := pveformat.ParseUPID(r.UPID)
	if err != nil {
		return nil, err
	}
	t := &task{UPID: u, upid: r.UPID, done: make(chan struct{}), end: r.End, exitStatus: r.ExitStatus,
		lines: r.Lines, warnings: r.Warnings, cancel: func() {}}
	if r.Running {
		t.exitStatus = "unexpected status"
		t.end = now
	}
	close(t.done)
	return t, nil
}

// statusJSON is GET /nodes/{node}/tasks/{upid}/status.
func (t *task) statusJSON() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	user, token, _ := strings.Cut(t.UPID.User, "!")
	out := map[string]any{
		"upid": t.upid, "node": t.UPID.Node, "pid": t.UPID.PID, "pstart": t.UPID.PStart,
		"starttime": t.UPID.StartTime.Unix(), "type": t.UPID.Type, "id": t.UPID.ID, "user": user,
		"status": "running",
	}
	if token != "" {
		out["tokenid"] = token
	}
	if !t.running {
		out["status"] = "stopped"
		out["exitstatus"] = t.exitStatus
	}
	return out
}

// listJSON is a task's entry in /cluster/tasks and /nodes/{node}/tasks.
func (t *task) listJSON() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]any{
		"upid": t.upid, "node": t.UPID.Node, "pid": t.UPID.PID, "pstart": t.UPID.PStart,
		"starttime": t.UPID.StartTime.Unix(), "type": t.UPID.Type, "id": t.UPID.ID, "user": t.UPID.User,
	}
	if !t.running {
		out["endtime"] = t.end.Unix()
		out["status"] = t.exitStatus
	}
	return out
}

func (t *task) isRunning() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running
}

// lookupTask finds a task by UPID text, with PVE's 400 texts.
func (s *Server) lookupTask(node, upid string) (*task, *apiError) {
	if _, err := pveformat.ParseUPID(upid); err != nil {
		return nil, paramErr1("upid", "unable to parse worker upid")
	}
	s.tasksMu.Lock()
	t, ok := s.tasks[upid]
	s.tasksMu.Unlock()
	if !ok || t.UPID.Node != node {
		return nil, paramErr1("upid", "no such task")
	}
	return t, nil
}

// tasksNewestFirst lists the tasks, optionally of one node.
func (s *Server) tasksNewestFirst(node string) []*task {
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	out := make([]*task, 0, len(s.taskOrder))
	for i := len(s.taskOrder) - 1; i >= 0; i-- {
		if node == "" || s.taskOrder[i].UPID.Node == node {
			out = append(out, s.taskOrder[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UPID.StartTime.After(out[j].UPID.StartTime) })
	return out
}

// handleTaskStatus is GET /nodes/{node}/tasks/{upid}/status.
func (s *Server) handleTaskStatus(q *request) (any, error) {
	t, err := s.lookupTask(q.node(), q.str("upid"))
	if err != nil {
		return nil, err
	}
	return t.statusJSON(), nil
}

// handleTaskLog is GET /nodes/{node}/tasks/{upid}/log: lines {n, t} from
// start (0-based), at most limit of them, and the total line count.
func (s *Server) handleTaskLog(q *request) (any, error) {
	t, aerr := s.lookupTask(q.node(), q.str("upid"))
	if aerr != nil {
		return nil, aerr
	}
	if q.params.Bool("download") && (q.params.Has("start") || q.params.Has("limit")) {
		return nil, paramErr1("download", "Option 'download' can't be used together with 'start' or 'limit'")
	}
	start := q.intOr("start", 0)
	limit := q.intOr("limit", 50)
	t.mu.Lock()
	lines := append([]string(nil), t.lines...)
	t.mu.Unlock()
	if len(lines) == 0 {
		return withTotal([]map[string]any{{"n": 1, "t": "no content"}}, 1), nil
	}
	out := []map[string]any{}
	for i := start; i < len(lines) && (limit <= 0 || i < start+limit); i++ {
		out = append(out, map[string]any{"n": i + 1, "t": lines[i]})
	}
	return withTotal(out, len(lines)), nil
}

// handleTaskStop is DELETE /nodes/{node}/tasks/{upid}: the worker is
// interrupted and ends with "received interrupt".
func (s *Server) handleTaskStop(q *request) (any, error) {
	t, err := s.lookupTask(q.node(), q.str("upid"))
	if err != nil {
		return nil, err
	}
	t.cancel()
	return nil, nil
}

// handleNodeTasks is GET /nodes/{node}/tasks.
func (s *Server) handleNodeTasks(q *request) (any, error) {
	start := q.intOr("start", 0)
	limit := q.intOr("limit", 50)
	var matched []map[string]any
	for _, t := range s.tasksNewestFirst(q.node()) {
		if v, ok := q.params["vmid"]; ok && t.UPID.ID != v {
			continue
		}
		if v := q.params["typefilter"]; v != "" && t.UPID.Type != v {
			continue
		}
		if v := q.params["userfilter"]; v != "" && !strings.Contains(t.UPID.User, v) {
			continue
		}
		running := t.isRunning()
		src := q.params["source"]
		if src == "" {
			src = "archive"
		}
		if (src == "archive" && running) || (src == "active" && !running) {
			continue
		}
		entry := t.listJSON()
		if q.params.Bool("errors") {
			if st, _ := entry["status"].(string); st == "OK" || running {
				continue
			}
		}
		matched = append(matched, entry)
	}
	out := []map[string]any{}
	for i := start; i < len(matched) && len(out) < limit; i++ {
		out = append(out, matched[i])
	}
	return withTotal(out, len(matched)), nil
}

// handleClusterTasks is GET /cluster/tasks.
func (s *Server) handleClusterTasks(*request) (any, error) {
	out := []map[string]any{}
	for _, t := range s.tasksNewestFirst("") {
		out = append(out, t.listJSON())
	}
	return out, nil
}

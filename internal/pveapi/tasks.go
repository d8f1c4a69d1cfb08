package pveapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// TaskPollPolicy is how WaitTask polls a running task: the interval starts
// at Initial and grows by half each poll up to Max, so short tasks finish
// fast and long ones do not hammer the API.
type TaskPollPolicy struct {
	// Initial is the first poll interval; 0 means 100ms.
	Initial time.Duration
	// Max caps the interval; 0 means 2s.
	Max time.Duration
	// NotFoundGrace is how long "no such task" is tolerated right after the
	// task was started (the status file may not exist yet); 0 means 10s.
	NotFoundGrace time.Duration
}

func (p TaskPollPolicy) withDefaults() TaskPollPolicy {
	if p.Initial <= 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 2 * time.Second
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	if p.NotFoundGrace <= 0 {
		p.NotFoundGrace = 10 * time.Second
	}
	return p
}

// Task is the status of a PVE task (GET /nodes/{node}/tasks/{upid}/status).
type Task struct {
	UPID pveformat.UPID
	// Status is "running" or "stopped".
	Status string
	// ExitStatus is set once stopped: "OK", "WARNINGS: <n>", or the error
	// text (PVE strips the "TASK ERROR: " prefix).
	ExitStatus string
}

// Running reports whether the task has not finished yet.
func (t Task) Running() bool { return t.Status != "stopped" }

// Succeeded reports whether a finished task counts as a success: "OK" or
// "WARNINGS: n".
func (t Task) Succeeded() bool {
	return t.ExitStatus == "OK" || strings.HasPrefix(t.ExitStatus, "WARNINGS")
}

// TaskResult is a successfully finished task.
type TaskResult struct {
	UPID       pveformat.UPID
	ExitStatus string
	// Warnings are the task's warning lines ("WARN: …" in the log) when it
	// finished with "WARNINGS: n"; the provider shows them as diagnostics.
	Warnings []string
	// Log is the task log, fetched only when there were warnings.
	Log []string
}

// TaskError is a task that finished unsuccessfully.
type TaskError struct {
	UPID       pveformat.UPID
	ExitStatus string
	// LogTail holds the last lines of the task log (up to taskLogTailLines).
	LogTail []string
}

// Is makes errors.Is(err, ErrNotFound) (and the other sentinels) work on
// the exit status, e.g. "snapshot 's1' does not exist" or "snapshot feature
// is not available".
func (e *TaskError) Is(target error) bool {
	kind := classifyTaskExit(e.ExitStatus)
	return kind != nil && kind == target
}

func (e *TaskError) Error() string {
	msg := "task " + e.UPID.Type
	if e.UPID.ID != "" {
		msg += " " + e.UPID.ID
	}
	msg += fmt.Sprintf(" on node %s failed: %s", e.UPID.Node, e.ExitStatus)
	if len(e.LogTail) > 0 {
		msg += "\ntask log (last lines):\n  " + strings.Join(e.LogTail, "\n  ")
	}
	return msg
}

// TaskLogLine is one line of a task log.
type TaskLogLine struct {
	N int    `json:"n"`
	T string `json:"t"`
}

const (
	taskLogTailLines = 20
	taskLogPageSize  = 500
	taskLogMaxLines  = 20000
)

// TaskStatus reads the status of a task.
func (c *Client) TaskStatus(ctx context.Context, upid string) (*Task, error) {
	id, err := pveformat.ParseUPID(upid)
	if err != nil {
		return nil, fmt.Errorf("task id %q: %w", upid, err)
	}
	var raw struct {
		UPID       string `json:"upid"`
		Status     string `json:"status"`
		ExitStatus string `json:"exitstatus"`
	}
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", id.Node, "tasks", upid, "status"), nil, &raw); err != nil {
		return nil, err
	}
	return &Task{UPID: id, Status: raw.Status, ExitStatus: raw.ExitStatus}, nil
}

// TaskLog reads limit lines of a task log starting at line offset start
// (0-based); total is the number of lines the log has.
func (c *Client) TaskLog(ctx context.Context, upid string, start, limit int) (lines []TaskLogLine, total int, err error) {
	id, err := pveformat.ParseUPID(upid)
	if err != nil {
		return nil, 0, fmt.Errorf("task id %q: %w", upid, err)
	}
	params := NewParams().SetInt("start", int64(start)).SetInt("limit", int64(limit))
	res, err := c.send(ctx, call{method: http.MethodGet, path: apiPath("nodes", id.Node, "tasks", upid, "log"), params: params})
	if err != nil {
		return nil, 0, err
	}
	if err := res.decode(&lines); err != nil {
		return nil, 0, err
	}
	return lines, res.total, nil
}

// WaitTask polls a task until it stops. "OK" and "WARNINGS: n" are
// successes (the latter with the warning lines from the log); anything else
// is a *TaskError carrying the exit status and the log tail. A "no such
// task" answer right after the start is tolerated for a grace period. When
// ctx ends, its error is returned promptly; the task keeps running on the
// server and is never started again by this client.
func (c *Client) WaitTask(ctx context.Context, upid string) (*TaskResult, error) {
	id, err := pveformat.ParseUPID(upid)
	if err != nil {
		return nil, fmt.Errorf("task id %q: %w", upid, err)
	}
	fields := map[string]any{"upid": upid, "type": id.Type, "id": id.ID, "node": id.Node}
	subsystemDebug(ctx, "waiting for task", fields)
	started := c.now()
	interval := c.poll.Initial
	for {
		task, err := c.TaskStatus(ctx, upid)
		switch {
		case err == nil && !task.Running():
			return c.finishTask(ctx, task)
		case err == nil:
		case errors.Is(err, ErrNotFound) && c.now().Sub(started) < c.poll.NotFoundGrace && ctx.Err() == nil:
			subsystemTrace(ctx, "task not visible yet", fields)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("waiting for task %s: %w", upid, ctx.Err())
		default:
			return nil, fmt.Errorf("waiting for task %s: %w", upid, err)
		}
		if err := sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("waiting for task %s: %w", upid, err)
		}
		interval = min(interval+interval/2, c.poll.Max)
	}
}

// finishTask turns a stopped task into a result or a *TaskError.
func (c *Client) finishTask(ctx context.Context, task *Task) (*TaskResult, error) {
	upid := task.UPID.String()
	fields := map[string]any{"upid": upid, "exit_status": task.ExitStatus}
	if task.Succeeded() {
		res := &TaskResult{UPID: task.UPID, ExitStatus: task.ExitStatus}
		if task.ExitStatus != "OK" {
			lines, err := c.fullTaskLog(ctx, upid)
			if err != nil {
				subsystemWarn(ctx, "reading the task log for warnings failed", map[string]any{"upid": upid, "error": err.Error()})
			}
			res.Log = lines
			res.Warnings = warningLines(lines)
			if len(res.Warnings) == 0 {
				res.Warnings = []string{"task finished with " + strings.ToLower(task.ExitStatus)}
			}
		}
		subsystemDebug(ctx, "task finished", fields)
		return res, nil
	}
	subsystemDebug(ctx, "task failed", fields)
	tail, err := c.taskLogTail(ctx, upid)
	if err != nil {
		subsystemWarn(ctx, "reading the task log of a failed task failed", map[string]any{"upid": upid, "error": err.Error()})
	}
	return nil, &TaskError{UPID: task.UPID, ExitStatus: task.ExitStatus, LogTail: tail}
}

// warningLines picks the lines PVE's log_warn writes ("WARN: …").
func warningLines(lines []string) []string {
	var out []string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "WARN: "); ok {
			out = append(out, rest)
		}
	}
	return out
}

// fullTaskLog reads the whole log page by page (bounded).
func (c *Client) fullTaskLog(ctx context.Context, upid string) ([]string, error) {
	var out []string
	for start := 0; start < taskLogMaxLines; start += taskLogPageSize {
		page, total, err := c.TaskLog(ctx, upid, start, taskLogPageSize)
		if err != nil {
			return out, err
		}
		for _, l := range page {
			out = append(out, l.T)
		}
		if len(page) < taskLogPageSize || start+len(page) >= total {
			break
		}
	}
	return out, nil
}

// taskLogTail reads the last taskLogTailLines lines of a log.
func (c *Client) taskLogTail(ctx context.Context, upid string) ([]string, error) {
	page, total, err := c.TaskLog(ctx, upid, 0, taskLogPageSize)
	if err != nil {
		return nil, err
	}
	if total > len(page) {
		page, _, err = c.TaskLog(ctx, upid, total-taskLogTailLines, taskLogTailLines)
		if err != nil {
			return nil, err
		}
	}
	lines := make([]string, 0, len(page))
	for _, l := range page {
		lines = append(lines, l.T)
	}
	if len(lines) > taskLogTailLines {
		lines = lines[len(lines)-taskLogTailLines:]
	}
	return lines, nil
}

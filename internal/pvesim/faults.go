package pvesim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// FaultKind says what a fault does.
type FaultKind string

// Fault kinds. Request faults match a request's method and path; task
// faults match a task's type (and VMID).
const (
	// FaultStatus answers matching requests with Status and Message
	// (JSON error envelope; empty body for 59x statuses, like pveproxy).
	FaultStatus FaultKind = "status"
	// FaultLatency delays matching requests by Delay before handling them.
	FaultLatency FaultKind = "latency"
	// FaultDrop closes the connection without any answer, before the
	// request is handled: nothing happens on the server.
	FaultDrop FaultKind = "drop"
	// FaultLostAnswer carries the request out in full (a create's config
	// is written and its task started, a change is made) and then closes
	// the connection without answering, as when a proxy, the network or
	// the client's timeout loses the answer of a request PVE did act on.
	FaultLostAnswer FaultKind = "lost-answer"
	// FaultBrokenPipe answers "596 Broken pipe" with an empty body, as
	// pveproxy does when the node it proxies to is gone.
	FaultBrokenPipe FaultKind = "broken-pipe"
	// FaultLockTimeout makes every config lock the request (or the task
	// it starts) takes fail at once with PVE's "got timeout" text.
	FaultLockTimeout FaultKind = "lock-timeout"
	// FaultTicketExpiry invalidates every ticket issued so far just before
	// the matching request is authenticated.
	FaultTicketExpiry FaultKind = "ticket-expiry"
	// FaultTaskFail makes matching tasks fail with Message as exitstatus,
	// after rolling back like a real failure would.
	FaultTaskFail FaultKind = "task-fail"
	// FaultTaskSlow makes matching tasks run Delay longer.
	FaultTaskSlow FaultKind = "task-slow"
	// FaultTaskWarn adds a warning (Message) to matching tasks, which then
	// end with "WARNINGS: n".
	FaultTaskWarn FaultKind = "task-warn"
)

// faultKindList names every kind, for error messages.
const faultKindList = "status, latency, drop, lost-answer, broken-pipe, lock-timeout, ticket-expiry, task-fail, task-slow, task-warn"

func (k FaultKind) isTaskFault() bool {
	return k == FaultTaskFail || k == FaultTaskSlow || k == FaultTaskWarn
}

// Fault is one injected failure. Zero fields match everything.
type Fault struct {
	Kind FaultKind
	// Method is GET, POST, PUT or DELETE; empty matches any (request faults).
	Method string
	// Path is relative to /api2/json. A glob where "*" matches within one
	// path segment and "**" across segments ("/nodes/*/lxc/**"), or a Go
	// regexp after "re:" ("re:^/nodes/[^/]+/lxc/10[0-9]/config$"), matched
	// against the whole path. Empty matches any (request faults).
	Path string
	// Status and Message are the answer of a status fault (Message defaults
	// to the status text); Message is the exitstatus of task-fail and the
	// warning of task-warn.
	Status  int
	Message string
	// Count is how many times the fault fires; 0 means every time.
	Count int
	// Probability in (0,1) makes the fault fire on that share of matches;
	// 0 means always.
	Probability float64
	// Delay is the latency of latency faults and the extra run time of
	// task-slow faults.
	Delay time.Duration
	// TaskType ("vzcreate", "vzstart", …) and VMID select tasks; empty/0
	// match any.
	TaskType string
	VMID     int
}

// String prints the fault in --fault syntax.
func (f Fault) String() string {
	parts := []string{"kind=" + string(f.Kind)}
	add := func(k, v string) {
		if v != "" && v != "0" {
			parts = append(parts, k+"="+v)
		}
	}
	add("method", f.Method)
	add("path", f.Path)
	add("status", strconv.Itoa(f.Status))
	add("message", f.Message)
	add("count", strconv.Itoa(f.Count))
	if f.Probability > 0 {
		add("probability", strconv.FormatFloat(f.Probability, 'g', -1, 64))
	}
	if f.Delay > 0 {
		add("delay", f.Delay.String())
	}
	add("type", f.TaskType)
	add("vmid", strconv.Itoa(f.VMID))
	return strings.Join(parts, ",")
}

var faultKeys = map[string]bool{
	"kind": true, "method": true, "path": true, "status": true, "message": true, "count": true,
	"probability": true, "delay": true, "type": true, "vmid": true,
}

// ParseFault reads the --fault syntax, a PVE property string:
// "kind=status,method=GET,path=/nodes/*/lxc/*/status/current,status=502,count=3".
// kind may be left out when status is given (status fault) or when only
// delay is given (latency fault). Values cannot contain commas.
func ParseFault(spec string) (Fault, error) {
	ps, err := pveformat.ParsePropertyString(spec, "", func(k string) bool { return faultKeys[k] })
	if err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	f := Fault{
		Kind:     FaultKind(ps.Value("kind")),
		Method:   strings.ToUpper(ps.Value("method")),
		Path:     ps.Value("path"),
		Message:  ps.Value("message"),
		TaskType: ps.Value("type"),
	}
	ints := map[string]*int{"status": &f.Status, "count": &f.Count, "vmid": &f.VMID}
	for _, k := range []string{"status", "count", "vmid"} {
		if v, ok := ps.Get(k); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Fault{}, fmt.Errorf("fault %q: %s must be a non-negative integer, got %q", spec, k, v)
			}
			*ints[k] = n
		}
	}
	if v, ok := ps.Get("probability"); ok {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return Fault{}, fmt.Errorf("fault %q: probability must be a number between 0 and 1, got %q", spec, v)
		}
		f.Probability = p
	}
	if v, ok := ps.Get("delay"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Fault{}, fmt.Errorf("fault %q: delay must be a duration such as 500ms or 3s, got %q", spec, v)
		}
		f.Delay = d
	}
	if f.Kind == "" {
		switch {
		case f.Status != 0:
			f.Kind = FaultStatus
		case f.Delay != 0:
			f.Kind = FaultLatency
		}
	}
	if err := f.validate(); err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	return f, nil
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultStatus:
		if f.Status < 100 || f.Status > 999 {
			return errors.New("a status fault needs status=<100-999>")
		}
	case FaultLatency, FaultTaskSlow:
		if f.Delay <= 0 {
			return fmt.Errorf("a %s fault needs delay=<duration>", f.Kind)
		}
	case FaultTaskFail:
		if f.Message == "" {
			return errors.New("a task-fail fault needs message=<exitstatus text>")
		}
	case FaultDrop, FaultLostAnswer, FaultBrokenPipe, FaultLockTimeout, FaultTicketExpiry, FaultTaskWarn:
	case "":
		return errors.New("kind is missing (" + faultKindList + ")")
	default:
		return fmt.Errorf("unknown kind %q (%s)", f.Kind, faultKindList)
	}
	switch f.Method {
	case "", http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete:
	default:
		return fmt.Errorf("method must be GET, POST, PUT or DELETE, got %q", f.Method)
	}
	if _, err := compilePathPattern(f.Path); err != nil {
		return err
	}
	return nil
}

// compilePathPattern turns a fault's path into a regexp matching whole paths.
func compilePathPattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		return nil, nil
	}
	if expr, ok := strings.CutPrefix(p, "re:"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("path regexp: %w", err)
		}
		return re, nil
	}
	p = strings.TrimPrefix(p, "/api2/json")
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Faults holds the armed faults of a simulator; safe for concurrent use.
type Faults struct {
	mu      sync.Mutex
	nextID  int
	armed   []*armedFault
	expire  func()
	randomF func() float64
}

type armedFault struct {
	Fault
	id     int
	left   int // remaining firings; -1 = unlimited
	pathRE *regexp.Regexp
}

func newFaults(expire func()) *Faults {
	return &Faults{expire: expire, randomF: rand.Float64}
}

// Add arms a fault and returns its id for Remove.
func (f *Faults) Add(fault Fault) (int, error) {
	if err := fault.validate(); err != nil {
		return 0, err
	}
	re, _ := compilePathPattern(fault.Path)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	left := fault.Count
	if left == 0 {
		left = -1
	}
	f.armed = append(f.armed, &armedFault{Fault: fault, id: f.nextID, left: left, pathRE: re})
	return f.nextID, nil
}

// MustAdd is Add for tests and fixed faults: it panics on an invalid fault.
func (f *Faults) MustAdd(fault Fault) int {
	id, err := f.Add(fault)
	if err != nil {
		panic(err)
	}
	return id
}

// Remove disarms the fault with id.
func (f *Faults) Remove(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range f.armed {
		if a.id == id {
			f.armed = append(f.armed[:i], f.armed[i+1:]...)
			return
		}
	}
}

// Clear disarms every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = nil
}

// Active lists the armed faults with their remaining counts applied.
func (f *Faults) Active() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fault, 0, len(f.armed))
	for _, a := range f.armed {
		fa := a.Fault
		if a.left > 0 {
			fa.Count = a.left
		}
		out = append(out, fa)
	}
	return out
}

// ExpireTickets invalidates every ticket and CSRF token issued so far, as
// if they had all run out; new logins work.
func (f *Faults) ExpireTickets() { f.expire() }

// fireLocked decides whether a matching fault fires now and counts it
// down; the caller holds f.mu.
func (f *Faults) fireLocked(a *armedFault) bool {
	if a.Probability > 0 && a.Probability < 1 && f.randomF() >= a.Probability {
		return false
	}
	if a.left > 0 {
		a.left--
	}
	return true
}

func (f *Faults) pruneLocked() {
	out := f.armed[:0]
	for _, a := range f.armed {
		if a.left != 0 {
			out = append(out, a)
		}
	}
	f.armed = out
}

// forRequest returns the request faults that fire for this request.
func (f *Faults) forRequest(method, relPath string) []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Fault
	answered := false // one fault at most decides the answer
	for _, a := range f.armed {
		if a.Kind.isTaskFault() || a.left == 0 {
			continue
		}
		if a.Method != "" && a.Method != method {
			continue
		}
		if a.pathRE != nil && !a.pathRE.MatchString(relPath) {
			continue
		}
		// A fault that would answer the request is not even tried once an
		// earlier one answers it, so its count is kept for a later request.
		if a.Kind.answers() && answered {
			continue
		}
		if f.fireLocked(a) {
			out = append(out, a.Fault)
			answered = answered || a.Kind.answers()
		}
	}
	f.pruneLocked()
	return out
}

// answers reports whether a request fault replaces the answer (rather than
// delaying it, expiring tickets or failing locks on the way).
func (k FaultKind) answers() bool {
	return k == FaultStatus || k == FaultDrop || k == FaultLostAnswer || k == FaultBrokenPipe
}

// forTask returns the task faults that fire for a new task.
func (f *Faults) forTask(taskType string, vmid int) []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Fault
	for _, a := range f.armed {
		if !a.Kind.isTaskFault() || a.left == 0 {
			continue
		}
		if a.TaskType != "" && a.TaskType != taskType {
			continue
		}
		if a.VMID != 0 && a.VMID != vmid {
			continue
		}
		if f.fireLocked(a) {
			out = append(out, a.Fault)
		}
	}
	f.pruneLocked()
	return out
}

// faultAnswer is the error a status or broken-pipe fault sends.
func faultAnswer(f Fault) *apiError {
	if f.Kind == FaultBrokenPipe {
		return &apiError{Status: 596, Message: "Broken pipe", Body: bodyEmpty}
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	if msg == "" {
		msg = "injected fault"
	}
	e := &apiError{Status: f.Status, Message: msg}
	if f.Status >= 590 {
		e.Body = bodyEmpty
	}
	return e
}

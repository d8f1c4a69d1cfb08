package pveapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Sentinels for the outcomes callers branch on. They match a wrapped
// *APIError or *TaskError (a task's exit status is classified the same way)
// through errors.Is, so callers never compare message texts.
var (
	// ErrNotFound: the object does not exist (HTTP 404, or PVE's 500/400
	// texts such as "Configuration file 'nodes/pve/lxc/100.conf' does not
	// exist" or "no such task").
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: the object (usually a VMID) is taken, e.g.
	// "CT 100 already exists on node 'pve'".
	ErrAlreadyExists = errors.New("already exists")
	// ErrLocked: the guest is locked, either by a persistent config lock
	// ("CT is locked (create)") or a file lock timeout ("can't lock file
	// '/run/lock/lxc/pve-config-100.lock' - got timeout").
	ErrLocked = errors.New("locked")
	// ErrNotRunning: the guest is stopped and the request needs it running,
	// e.g. stopping a stopped container ("CT 100 not running").
	ErrNotRunning = errors.New("not running")
	// ErrAlreadyRunning: starting a running guest ("CT 100 already running").
	ErrAlreadyRunning = errors.New("already running")
	// ErrSnapshotUnsupported: a container's volumes cannot be snapshotted
	// ("snapshot feature is not available"): raw files on a directory
	// storage, bind or device mount points, storages without snapshots.
	ErrSnapshotUnsupported = errors.New("snapshots not supported by the container's storage")
	// ErrUsedByLinkedClones: a template's base volume cannot be freed while
	// linked clones use it ("base volume 'base-100-disk-0' is still in use
	// by linked clones"; "… linked cloned" for VMs).
	ErrUsedByLinkedClones = errors.New("used by linked clones")
)

// APIError is an HTTP error answer from the PVE API, classified once here.
type APIError struct {
	// Method and Path identify the request (path relative to /api2/json).
	Method, Path string
	// Status is the HTTP status code (PVE also uses 59x proxy codes).
	Status int
	// Message is the server's text without its trailing newline: the JSON
	// "message", else a plain-text body, else the HTTP reason phrase.
	Message string
	// Errors maps parameter names to their validation texts (HTTP 400).
	Errors map[string]string

	kind error // one of the sentinels, or nil
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 0 {
		keys := make([]string, 0, len(e.Errors))
		for k := range e.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + e.Errors[k]
		}
		b.WriteString(" (")
		b.WriteString(strings.Join(parts, "; "))
		b.WriteString(")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) (and the other sentinels) work.
func (e *APIError) Is(target error) bool {
	return e.kind != nil && e.kind == target
}

// newAPIError builds the error for a non-2xx answer. reason is the HTTP
// reason phrase, which older PVE versions use as the only error text.
func newAPIError(method, path string, status int, reason string, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var env struct {
		Message *string         `json:"message"`
		Errors  json.RawMessage `json:"errors"`
	}
	trimmed := strings.TrimSpace(string(body))
	if err := json.Unmarshal(body, &env); err == nil && strings.HasPrefix(trimmed, "{") {
		if env.Message != nil {
			e.Message = cleanText(*env.Message)
		}
		e.Errors = decodeParamErrors(env.Errors)
	} else if trimmed != "" && !strings.HasPrefix(trimmed, "<") {
		// Framework-level errors (e.g. 501 "no such uri") come as plain text
		// since libpve-http-server-perl 5.2.0; an HTML page from a proxy is
		// not a message worth showing.
		e.Message = cleanText(trimmed)
	}
	if e.Message == "" {
		e.Message = cleanText(reason)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.kind = classify(status, e.Message, e.Errors)
	return e
}

// decodeParamErrors reads the "errors" object; values are normally strings
// but are kept as JSON text otherwise.
func decodeParamErrors(raw json.RawMessage) map[string]string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			s = string(v)
		}
		out[k] = cleanText(s)
	}
	return out
}

// maxMessageLen bounds how much of a server text ends up in an error.
const maxMessageLen = 2048

// cleanText drops PVE's trailing newline and bounds the length.
func cleanText(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if len(s) > maxMessageLen {
		cut := maxMessageLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// classify maps PVE's texts to the sentinels. PVE reports nearly every
// semantic failure as a 500 and a few as 400 parameter errors, so the text
// decides; 401/403/501/59x are never one of these outcomes.
func classify(status int, message string, paramErrors map[string]string) error {
	if status == http.StatusNotFound {
		return ErrNotFound
	}
	if status != http.StatusInternalServerError && status != http.StatusBadRequest {
		return nil
	}
	texts := []string{message}
	for _, v := range paramErrors {
		texts = append(texts, v)
	}
	for _, t := range texts {
		if isLockedText(t) {
			return ErrLocked
		}
	}
	for _, t := range texts {
		lower := strings.ToLower(t)
		switch {
		case strings.Contains(lower, "already exists"), snapshotNameUsedRE.MatchString(t):
			return ErrAlreadyExists
		case strings.Contains(lower, "already running"):
			return ErrAlreadyRunning
		case strings.Contains(lower, "not running"):
			return ErrNotRunning
		}
	}
	for _, t := range texts {
		switch {
		case strings.Contains(t, "snapshot feature is not available"):
			return ErrSnapshotUnsupported
		case strings.Contains(t, "is still in use by linked clone"):
			return ErrUsedByLinkedClones
		}
	}
	for _, t := range texts {
		lower := strings.ToLower(t)
		if strings.Contains(lower, "does not exist") || strings.Contains(lower, "no such ") {
			return ErrNotFound
		}
	}
	return nil
}

// snapshotNameUsedRE is snapshot_create's refusal of a taken name.
var snapshotNameUsedRE = regexp.MustCompile(`snapshot name '[^']*' already used`)

// classifyTaskExit classifies a failed task's exit status like a handler's
// 500 with that text: PVE reports most refusals of a worker (a missing
// snapshot, a lock, a storage without snapshots) only there.
func classifyTaskExit(exitStatus string) error {
	return classify(http.StatusInternalServerError, exitStatus, nil)
}

// isLockedText recognises both of PVE's lock failures.
func isLockedText(t string) bool {
	if strings.Contains(t, " is locked (") {
		return true
	}
	return isLockTimeoutText(t)
}

// isLockTimeoutText is the flock timeout: "can't lock file '<path>' - got
// timeout". It is transient: the holder is a short read-modify-write.
func isLockTimeoutText(t string) bool {
	return strings.Contains(t, "can't lock file") && strings.Contains(t, "got timeout")
}

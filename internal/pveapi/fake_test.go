package pveapi

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fakes here answer like PVE (envelope, error shapes, reason phrases)
// and record every request under a mutex so tests can assert exactly what
// the client sent.

type recordedRequest struct {
	Method   string
	Path     string // escaped, relative to /api2/json
	RawQuery string
	Query    url.Values
	Body     string
	Form     url.Values
	Header   http.Header
}

type fakePVE struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []recordedRequest
	routes   map[string]http.HandlerFunc
}

// newFakePVE starts a TLS fake; routes are "METHOD /path" keys (escaped
// path relative to /api2/json).
func newFakePVE(t *testing.T, routes map[string]http.HandlerFunc) *fakePVE {
	t.Helper()
	f := &fakePVE{t: t, routes: map[string]http.HandlerFunc{}}
	for k, h := range routes {
		f.routes[k] = h
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = quietLog
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePVE) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rel, ok := strings.CutPrefix(r.URL.EscapedPath(), "/api2/json")
	if !ok {
		writeRaw(w, http.StatusNotImplemented, "no such uri", "no such uri")
		return
	}
	rec := recordedRequest{
		Method: r.Method, Path: rel, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
		Body: string(body), Header: r.Header.Clone(),
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		rec.Form = form
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	h := f.routes[r.Method+" "+rel]
	f.mu.Unlock()
	if h == nil {
		msg := fmt.Sprintf("Method '%s %s' not implemented", r.Method, rel)
		writePVEError(w, http.StatusNotImplemented, msg, nil)
		return
	}
	// Handlers read parameters from the recorded form/query.
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	h(w, r)
}

// recorded returns a copy of the requests seen so far.
func (f *fakePVE) recorded() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

// count returns how many requests hit method+path.
func (f *fakePVE) count(method, path string) int {
	n := 0
	for _, r := range f.recorded() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// fingerprint is the fake's certificate fingerprint in the PVE UI form.
func (f *fakePVE) fingerprint() string {
	sum := sha256.Sum256(f.srv.Certificate().Raw)
	return formatFingerprint(sum[:])
}

// quietLog drops the test servers' expected handshake and hijack noise.
var quietLog = log.New(io.Discard, "", 0)

const testToken = "root@pam!tf=9f1c1d3e-5b7a-4c1e-8d2a-0123456789ab"

// fastRetry keeps retry tests quick.
var fastRetry = RetryPolicy{MaxRetries: 3, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}

// newTestClient returns a client for f, pinned to its certificate, using the
// test token unless mutate changes the auth.
func newTestClient(t *testing.T, f *fakePVE, mutate func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Endpoint:       f.srv.URL,
		APIToken:       testToken,
		TLSFingerprint: f.fingerprint(),
		Retry:          fastRetry,
		TaskPoll:       TaskPollPolicy{Initial: time.Millisecond, Max: 4 * time.Millisecond},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// writeData writes PVE's success envelope.
func writeData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

// writePVEError writes a handler-level PVE error: the first message line as
// reason phrase, the JSON envelope with message (trailing newline) and
// errors, and Connection: close.
func writePVEError(w http.ResponseWriter, status int, message string, errs map[string]string) {
	env := map[string]any{"data": nil, "message": message + "\n"}
	if errs != nil {
		withNL := map[string]string{}
		for k, v := range errs {
			withNL[k] = v + "\n"
		}
		env["errors"] = withNL
	}
	body, _ := json.Marshal(env)
	reason, _, _ := strings.Cut(message, "\n")
	writeRaw(w, status, reason, string(body))
}

// writeRaw hijacks the connection to send a custom reason phrase, as
// pve-http-server does.
func writeRaw(w http.ResponseWriter, status int, reason, body string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, body, status)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	ctype := "application/json;charset=UTF-8"
	if body != "" && !strings.HasPrefix(body, "{") {
		ctype = "text/plain;charset=UTF-8"
	}
	_, _ = fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, reason, ctype, len(body), body)
	_ = buf.Flush()
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// param reads a request parameter the way PVE merges them: query first,
// then form body.
func param(r *http.Request, key string) string {
	if v := r.URL.Query().Get(key); v != "" {
		return v
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	form, _ := url.ParseQuery(string(body))
	return form.Get(key)
}

const testUPIDCreate = "UPID:pve:000D7AA2:08D5A17C:63DF62A5:vzcreate:100:root@pam!tf:"

// taskRoutes answers status and log for one task.
func taskRoutes(upid, exitStatus string, log []string) map[string]http.HandlerFunc {
	p := apiPath("nodes", "pve", "tasks", upid)
	return map[string]http.HandlerFunc{
		"GET " + p + "/status": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, map[string]any{"upid": upid, "status": "stopped", "exitstatus": exitStatus, "node": "pve", "pid": 883362, "starttime": 1675584165, "type": "vzcreate", "id": "100", "user": "root@pam"})
		},
		"GET " + p + "/log": func(w http.ResponseWriter, r *http.Request) {
			writeLog(w, r, log)
		},
	}
}

// writeLog answers a task log request with start/limit paging and total.
func writeLog(w http.ResponseWriter, r *http.Request, log []string) {
	start, limit := 0, 50
	_, _ = fmt.Sscan(r.URL.Query().Get("start"), &start)
	_, _ = fmt.Sscan(r.URL.Query().Get("limit"), &limit)
	var lines []map[string]any
	for i := start; i < len(log) && i < start+limit; i++ {
		lines = append(lines, map[string]any{"n": i + 1, "t": log[i]})
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": lines, "total": len(log)})
}

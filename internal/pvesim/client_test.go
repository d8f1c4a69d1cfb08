package pvesim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// apiClient is a minimal PVE API client for the simulator's tests.
type apiClient struct {
	t      testing.TB
	sim    *pvesimtest.Sim
	http   *http.Client
	token  string // "root@pam!sim=…" for token auth
	ticket string
	csrf   string
}

// apiResp is an answer with the envelope decoded.
type apiResp struct {
	Status  int
	Reason  string // the reason phrase as sent
	Header  http.Header
	Body    []byte
	Data    json.RawMessage
	Message string
	Errors  map[string]string
	Total   *int
}

func tokenClient(t testing.TB, sim *pvesimtest.Sim) *apiClient {
	return &apiClient{t: t, sim: sim, http: sim.HTTPClient(), token: sim.APIToken()}
}

// ticketClient logs in as root@pam and uses the ticket cookie.
func ticketClient(t testing.TB, sim *pvesimtest.Sim) *apiClient {
	c := &apiClient{t: t, sim: sim, http: sim.HTTPClient()}
	r := c.do(http.MethodPost, "/access/ticket", url.Values{"username": {"root@pam"}, "password": {sim.Password()}})
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	var login struct {
		Ticket string `json:"ticket"`
		CSRF   string `json:"CSRFPreventionToken"`
	}
	r.decode(t, &login)
	c.ticket, c.csrf = login.Ticket, login.CSRF
	return c
}

func (c *apiClient) do(method, path string, params url.Values) apiResp {
	c.t.Helper()
	return c.doRaw(method, path, params, nil)
}

// doRaw sends params in the query (GET/DELETE) or as a form body, and lets
// edit adjust the request.
func (c *apiClient) doRaw(method, path string, params url.Values, edit func(*http.Request)) apiResp {
	c.t.Helper()
	u := c.sim.Endpoint() + "/api2/json" + path
	var body io.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
	} else if params != nil {
		body = strings.NewReader(params.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "PVEAPIToken="+c.token)
	}
	if c.ticket != "" {
		req.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: c.ticket})
		if method != http.MethodGet {
			req.Header.Set("CSRFPreventionToken", c.csrf)
		}
	}
	if edit != nil {
		edit(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := apiResp{Status: resp.StatusCode, Reason: strings.TrimPrefix(resp.Status, resp.Status[:4]), Header: resp.Header, Body: data}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(data) > 0 && resp.Header.Get("Content-Encoding") == "" {
		var env struct {
			Data    json.RawMessage   `json:"data"`
			Message string            `json:"message"`
			Errors  map[string]string `json:"errors"`
			Total   *int              `json:"total"`
		}
		if err := json.Unmarshal(data, &env); err != nil {
			c.t.Fatalf("%s %s: body %q: %v", method, path, data, err)
		}
		r.Data, r.Message, r.Errors, r.Total = env.Data, env.Message, env.Errors, env.Total
	}
	return r
}

func (r apiResp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// ok fails the test unless the call succeeded.
func (r apiResp) ok(t testing.TB) apiResp {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("status %d %q: %s", r.Status, r.Reason, r.Body)
	}
	return r
}

// wantErr checks an error answer's status and message.
func (r apiResp) wantErr(t testing.TB, status int, message string) {
	t.Helper()
	if r.Status != status || r.Message != message+"\n" || r.Reason != message {
		t.Fatalf("got %d %q message %q body %s; want %d %q", r.Status, r.Reason, r.Message, r.Body, status, message)
	}
}

// wantParamErr checks a 400 with exactly these per-parameter errors.
func (r apiResp) wantParamErr(t testing.TB, errs map[string]string) {
	t.Helper()
	r.wantErr(t, 400, "Parameter verification failed.")
	if len(r.Errors) != len(errs) {
		t.Fatalf("errors = %q, want %q", r.Errors, errs)
	}
	for k, v := range errs {
		if r.Errors[k] != v {
			t.Fatalf("errors[%s] = %q, want %q (all: %q)", k, r.Errors[k], v, r.Errors)
		}
	}
}

func (r apiResp) str(t testing.TB) string {
	t.Helper()
	var s string
	r.decode(t, &s)
	return s
}

func (r apiResp) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// waitTask polls a task like a client would and returns its final status.
func (c *apiClient) waitTask(node, upid string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st := c.do(http.MethodGet, "/nodes/"+node+"/tasks/"+url.PathEscape(upid)+"/status", nil).ok(c.t).object(c.t)
		if st["status"] == "stopped" {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("task %s did not finish", upid)
	return nil
}

// mustTask runs a call returning a UPID and requires the task to end OK.
func (c *apiClient) mustTask(method, path string, params url.Values) string {
	c.t.Helper()
	upid := c.do(method, path, params).ok(c.t).str(c.t)
	st := c.waitTask(strings.Split(upid, ":")[1], upid)
	if st["exitstatus"] != "OK" {
		c.t.Fatalf("%s %s: task ended %v; log: %q", method, path, st["exitstatus"], c.sim.TaskLog(upid))
	}
	return upid
}

const (
	debian12  = "debian-12-standard_12.7-1_amd64.tar.zst"
	debianVol = "local:vztmpl/" + debian12
)

// createCT creates a container from the pre-installed Debian template and
// waits for the task.
func (c *apiClient) createCT(vmid string, extra url.Values) {
	c.t.Helper()
	p := url.Values{"vmid": {vmid}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}
	for k, v := range extra {
		p[k] = v
	}
	c.mustTask(http.MethodPost, "/nodes/pve/lxc", p)
}

// fastSim is a simulator with quick tasks and the Debian template installed.
func fastSim(t testing.TB, opts ...pvesimtest.Option) *pvesimtest.Sim {
	return pvesimtest.New(t, append([]pvesimtest.Option{pvesimtest.WithTaskDuration(5 * time.Millisecond), pvesimtest.WithTemplates(debian12)}, opts...)...)
}

func jsonEqual(a any, b string) bool {
	var x any
	if err := json.Unmarshal([]byte(b), &x); err != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(x)
	return bytes.Equal(ja, jb)
}

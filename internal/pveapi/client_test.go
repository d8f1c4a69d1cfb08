package pveapi

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestTokenAuthSendsHeaderAndNeverCSRF(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, map[string]any{"version": "9.1.2", "release": "9.1", "repoid": "abcdef12"})
		},
		"PUT /nodes/pve/lxc/100/config": func(w http.ResponseWriter, _ *http.Request) { writeData(w, nil) },
	})
	c := newTestClient(t, f, nil)
	v, err := c.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "9.1.2" || v.Release != "9.1" {
		t.Errorf("version = %+v", v)
	}
	if err := c.UpdateContainerConfig(t.Context(), "pve", 100, NewParams().SetInt("cores", 2), ""); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.recorded() {
		if got := r.Header.Get("Authorization"); got != "PVEAPIToken="+testToken {
			t.Errorf("%s %s: Authorization = %q", r.Method, r.Path, got)
		}
		if r.Header.Get("CSRFPreventionToken") != "" || r.Header.Get("Cookie") != "" {
			t.Errorf("%s %s: token requests must carry no CSRF token or cookie", r.Method, r.Path)
		}
	}
	if c.Identity() != "root@pam!tf" || !c.UsesAPIToken() {
		t.Errorf("Identity = %q, UsesAPIToken = %v", c.Identity(), c.UsesAPIToken())
	}
}

func TestParametersGoToQueryForGetAndDeleteAndToFormOtherwise(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /nodes/pve/storage": func(w http.ResponseWriter, _ *http.Request) { writeData(w, []any{}) },
		"DELETE /nodes/pve/lxc/100": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, "UPID:pve:00000001:00000002:63DF62A5:vzdestroy:100:root@pam!tf:")
		},
		"POST /nodes/pve/lxc/100/status/shutdown": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, "UPID:pve:00000001:00000002:63DF62A5:vzshutdown:100:root@pam!tf:")
		},
	})
	c := newTestClient(t, f, nil)
	ctx := t.Context()
	if _, err := c.ListStorage(ctx, "pve", "vztmpl"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteContainerAsync(ctx, "pve", 100, DeleteContainerOptions{Purge: true, DestroyUnreferencedDisks: true, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ShutdownContainerAsync(ctx, "pve", 100, 30, true); err != nil {
		t.Fatal(err)
	}
	reqs := f.recorded()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests", len(reqs))
	}
	get, del, post := reqs[0], reqs[1], reqs[2]
	if get.RawQuery != "content=vztmpl" || get.Body != "" {
		t.Errorf("GET query = %q body = %q", get.RawQuery, get.Body)
	}
	if del.RawQuery != "purge=1&destroy-unreferenced-disks=1&force=1" || del.Body != "" || del.Header.Get("Content-Length") != "" {
		t.Errorf("DELETE query = %q body = %q (PVE rejects DELETE bodies)", del.RawQuery, del.Body)
	}
	if post.RawQuery != "" || post.Body != "timeout=30&forceStop=1" {
		t.Errorf("POST query = %q body = %q", post.RawQuery, post.Body)
	}
	if ct := post.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("POST Content-Type = %q", ct)
	}
}

func TestTicketLoginAndCSRFOnlyOnWrites(t *testing.T) {
	const ticket = "PVE:root@pam:63DF62A5::c2lnbmF0dXJlLW9uZQ=="
	const csrf = "63DF62A5:Y3NyZi1vbmU"
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"POST /access/ticket": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, map[string]any{"username": "root@pam", "ticket": ticket, "CSRFPreventionToken": csrf, "cap": map[string]any{}})
		},
		"GET /nodes": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, []any{map[string]any{"node": "pve", "status": "online", "maxcpu": 8, "maxmem": "17179869184"}})
		},
		"PUT /nodes/pve/lxc/100/config": func(w http.ResponseWriter, _ *http.Request) { writeData(w, nil) },
		"POST /nodes/pve/lxc/100/status/start": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, "UPID:pve:00000001:00000002:63DF62A5:vzstart:100:root@pam:")
		},
		"DELETE /nodes/pve/lxc/100": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, "UPID:pve:00000001:00000002:63DF62A5:vzdestroy:100:root@pam:")
		},
	})
	c := newTestClient(t, f, func(cfg *Config) { cfg.APIToken, cfg.Username, cfg.Password = "", "root@pam", "s3cret-pass" })
	ctx := t.Context()
	nodes, err := c.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].MaxMem != 17179869184 {
		t.Errorf("nodes = %+v", nodes)
	}
	if err := c.UpdateContainerConfig(ctx, "pve", 100, NewParams().Set("hostname", "web"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartContainerAsync(ctx, "pve", 100); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteContainerAsync(ctx, "pve", 100, DeleteContainerOptions{}); err != nil {
		t.Fatal(err)
	}

	reqs := f.recorded()
	if len(reqs) != 5 {
		t.Fatalf("got %d requests, want login + 4", len(reqs))
	}
	login := reqs[0]
	if login.Method != http.MethodPost || login.Path != "/access/ticket" {
		t.Fatalf("first request = %s %s, want the login", login.Method, login.Path)
	}
	wantForm := url.Values{"username": {"root@pam"}, "password": {"s3cret-pass"}}
	if !reflect.DeepEqual(login.Form, wantForm) {
		t.Errorf("login form = %v", login.Form)
	}
	if login.Header.Get("Cookie") != "" || login.Header.Get("CSRFPreventionToken") != "" || login.Header.Get("Authorization") != "" {
		t.Errorf("the login must not carry credentials")
	}
	for _, r := range reqs[1:] {
		if got := r.Header.Get("Cookie"); got != "PVEAuthCookie="+ticket {
			t.Errorf("%s %s: Cookie = %q", r.Method, r.Path, got)
		}
		gotCSRF := r.Header.Get("CSRFPreventionToken")
		if r.Method == http.MethodGet && gotCSRF != "" {
			t.Errorf("GET %s carries a CSRF token", r.Path)
		}
		if r.Method != http.MethodGet && gotCSRF != csrf {
			t.Errorf("%s %s: CSRFPreventionToken = %q, want %q", r.Method, r.Path, gotCSRF, csrf)
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("%s %s: ticket requests carry no Authorization header", r.Method, r.Path)
		}
	}
	if c.Identity() != "root@pam" || c.UsesAPIToken() {
		t.Errorf("Identity = %q UsesAPIToken = %v", c.Identity(), c.UsesAPIToken())
	}
}

func TestVolumeIDIsOnePathSegment(t *testing.T) {
	const volid = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"DELETE /nodes/pve/storage/local/content/local:vztmpl%2Fdebian-12-standard_12.7-1_amd64.tar.zst": func(w http.ResponseWriter, _ *http.Request) {
			writeData(w, nil)
		},
	})
	c := newTestClient(t, f, nil)
	res, err := c.DeleteVolume(t.Context(), "pve", "local", volid)
	if err != nil {
		t.Fatal(err)
	}
	if res != nil {
		t.Errorf("a synchronous delete (null answer) has no task result, got %+v", res)
	}
}

func TestDoRejectsUnsupportedInputAndRelativePaths(t *testing.T) {
	f := newFakePVE(t, nil)
	c := newTestClient(t, f, nil)
	if err := c.Do(t.Context(), http.MethodGet, "/version", url.Values{"a": {"b"}}, nil); err == nil {
		t.Error("url.Values must be rejected: Params is the one way to pass parameters")
	}
	if err := c.Do(t.Context(), http.MethodGet, "version", nil, nil); err == nil {
		t.Error("a path without leading slash must be rejected")
	}
	if n := len(f.recorded()); n != 0 {
		t.Errorf("rejected calls sent %d requests", n)
	}
}

func TestDecodeErrorOnNonJSONSuccess(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>proxy</html>")) },
	})
	c := newTestClient(t, f, nil)
	_, err := c.Version(t.Context())
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
	if n := f.count(http.MethodGet, "/version"); n != 1 {
		t.Errorf("a malformed answer was retried: %d requests", n)
	}
}

func TestMaxParallelRequestsCapsInFlightRequests(t *testing.T) {
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	var inFlight atomic.Int32
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": func(w http.ResponseWriter, _ *http.Request) {
			inFlight.Add(1)
			entered <- struct{}{}
			<-release
			inFlight.Add(-1)
			writeData(w, map[string]any{"version": "9.1.2"})
		},
	})
	c := newTestClient(t, f, func(cfg *Config) { cfg.MaxParallelRequests = 2 })
	errs := make(chan error, 6)
	for range 6 {
		go func() { _, err := c.Version(t.Context()); errs <- err }()
	}
	<-entered
	<-entered
	// The other four goroutines are running; give them a moment to (wrongly)
	// reach the server before checking that none did.
	time.Sleep(100 * time.Millisecond)
	if n := inFlight.Load(); n != 2 {
		t.Errorf("in-flight requests = %d, the cap is 2", n)
	}
	close(release)
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := f.count(http.MethodGet, "/version"); n != 6 {
		t.Errorf("server saw %d requests, want 6", n)
	}
}

package pveapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const createPath = "/nodes/pve/lxc"

// TestCreateOutcomeClassification: every way a create can fail, and
// whether the client reports it as a plain error (PVE definitely refused,
// nothing was created) or as an *AmbiguousCreateError (the container may
// exist). Creates are never sent twice unless PVE said nothing happened.
func TestCreateOutcomeClassification(t *testing.T) {
	upid := "UPID:pve:00000001:00000002:63DF62A5:vzcreate:150:root@pam!tf:"
	always := func(h http.HandlerFunc) func(*atomic.Int32) http.HandlerFunc {
		return func(*atomic.Int32) http.HandlerFunc { return h }
	}
	sequence := func(hs ...http.HandlerFunc) func(*atomic.Int32) http.HandlerFunc {
		return func(n *atomic.Int32) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				hs[min(i, len(hs)-1)](w, r)
			}
		}
	}
	pveError := func(status int, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { writePVEError(w, status, msg, nil) }
	}
	raw := func(status int, reason, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, status, reason, body) }
	}
	lockTimeout := pveError(500, "can't lock file '/run/lock/lxc/pve-config-150.lock' - got timeout")
	cases := []struct {
		name      string
		answer    func(*atomic.Int32) http.HandlerFunc
		ambiguous bool
		posts     int
		text      string // in the error
	}{
		{name: "PVE refuses: id taken", answer: always(pveError(500, "CT 150 already exists on node 'pve'")), posts: 1, text: "already exists"},
		{name: "PVE refuses: storage", answer: always(pveError(500, "unable to create CT 150 - storage 'local' does not support container directories")), posts: 1},
		{name: "parameter verification", answer: always(func(w http.ResponseWriter, _ *http.Request) {
			writePVEError(w, 400, "Parameter verification failed.", map[string]string{"net0": "invalid format"})
		}), posts: 1},
		{name: "permission", answer: always(pveError(403, "Permission check failed (/vms/150, VM.Allocate)")), posts: 1},
		{name: "not implemented", answer: always(pveError(501, "Method 'POST /nodes/pve/lxc' not implemented")), posts: 1},
		{name: "pveproxy could not reach the node (595)", answer: always(raw(595, "Connection refused", "")), posts: 1},
		{name: "lock timeout, then created", answer: sequence(lockTimeout, func(w http.ResponseWriter, _ *http.Request) { writeData(w, upid) }), posts: 2},
		{name: "lock timeouts until the retries run out", answer: always(lockTimeout), posts: 4, text: "got timeout"},

		{name: "proxy's 500 without PVE's text", answer: always(raw(500, "Internal Server Error", "<html>oops</html>")), ambiguous: true, posts: 1},
		{name: "bad gateway", answer: always(raw(502, "Bad Gateway", "")), ambiguous: true, posts: 1},
		{name: "service unavailable", answer: always(raw(503, "Service Unavailable", "")), ambiguous: true, posts: 1},
		{name: "gateway timeout", answer: always(raw(504, "Gateway Timeout", "")), ambiguous: true, posts: 1},
		{name: "pveproxy lost the node mid-request (596)", answer: always(raw(596, "Broken pipe", "")), ambiguous: true, posts: 1},
		{name: "connection closed after the request", answer: always(func(w http.ResponseWriter, _ *http.Request) { dropConnection(w) }),
			ambiguous: true, posts: 1, text: "was closed before an answer arrived"},
		{name: "answer without a task id", answer: always(func(w http.ResponseWriter, _ *http.Request) { writeData(w, "") }), ambiguous: true, posts: 1},
		{name: "no worker upid, then taken", answer: sequence(pveError(500, "got no worker upid - start worker failed"), pveError(500, "CT 150 already exists on node 'pve'")),
			ambiguous: true, posts: 2, text: "earlier attempt"},
		{name: "no worker upid, then lock timeouts", answer: sequence(pveError(500, "got no worker upid - start worker failed"), lockTimeout),
			ambiguous: true, posts: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			f := newFakePVE(t, map[string]http.HandlerFunc{"POST " + createPath: tc.answer(&n)})
			c := newTestClient(t, f, nil)
			_, err := c.CreateContainerAsync(t.Context(), "pve", 150, NewParams())
			checkCreateOutcome(t, err, tc.ambiguous, tc.text)
			if got := f.count(http.MethodPost, createPath); got != tc.posts {
				t.Errorf("%d create requests, want %d", got, tc.posts)
			}
		})
	}
}

// A create whose answer does not arrive in time, or whose caller gives
// up, is ambiguous; the error says timeout or cancellation, not refusal.
func TestCreateTimeoutAndCancellationAreAmbiguous(t *testing.T) {
	received := make(chan struct{}, 1)
	release := make(chan struct{})
	f := newFakePVE(t, map[string]http.HandlerFunc{"POST " + createPath: func(w http.ResponseWriter, _ *http.Request) {
		received <- struct{}{}
		<-release
	}})
	t.Cleanup(func() { close(release) }) // runs before the server's Close, which waits for handlers
	c := newTestClient(t, f, nil)

	// Long enough for the request to arrive on a loaded machine; the
	// handler never answers, so the deadline always ends it.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := c.CreateContainerAsync(ctx, "pve", 150, NewParams())
	<-received
	checkCreateOutcome(t, err, true, "timed out waiting for the answer of Proxmox VE at "+c.Endpoint())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the timeout is not context.DeadlineExceeded underneath: %v", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	go func() {
		<-received
		cancel()
	}()
	_, err = c.CreateContainerAsync(ctx, "pve", 151, NewParams())
	checkCreateOutcome(t, err, true, "cancelled before Proxmox VE at "+c.Endpoint()+" answered")

	// Cancelled before anything was sent: nothing can have been created.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = c.CreateContainerAsync(ctx, "pve", 152, NewParams())
	checkCreateOutcome(t, err, false, "")
	if got := f.count(http.MethodPost, createPath); got != 2 {
		t.Errorf("%d create requests reached the server, want 2", got)
	}
}

// Failures before the request went out are plain errors, worded as what
// they are: no connection, a TLS failure.
func TestCreateNotSentIsNotAmbiguous(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{"POST " + createPath: func(w http.ResponseWriter, _ *http.Request) { writeData(w, "x") }})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + l.Addr().String()
	_ = l.Close()
	c := newTestClient(t, f, func(cfg *Config) { cfg.Endpoint = closed })
	_, err = c.CreateContainerAsync(t.Context(), "pve", 150, NewParams())
	checkCreateOutcome(t, err, false, "cannot connect to Proxmox VE at "+closed)

	c = newTestClient(t, f, func(cfg *Config) { cfg.TLSFingerprint = strings.Repeat("AB:", 31) + "AB" })
	_, err = c.CreateContainerAsync(t.Context(), "pve", 150, NewParams())
	checkCreateOutcome(t, err, false, "TLS connection to Proxmox VE at "+c.Endpoint()+" failed: TLS certificate fingerprint mismatch")
	if got := f.count(http.MethodPost, createPath); got != 0 {
		t.Errorf("%d create requests reached the server, want none", got)
	}
}

// Reads fail with the same wording, and are retried on transport errors.
func TestTransportErrorTexts(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{"GET /version": func(w http.ResponseWriter, _ *http.Request) { dropConnection(w) }})
	c := newTestClient(t, f, nil)
	_, err := c.Version(t.Context())
	var terr *TransportError
	if !errors.As(err, &terr) || !terr.Sent || terr.Method != http.MethodGet || terr.Path != "/version" {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if got := err.Error(); !strings.HasPrefix(got, "GET /version: the connection to Proxmox VE at "+c.Endpoint()+" was closed before an answer arrived (") ||
		strings.Contains(got, "refused") || strings.Contains(got, `Get "`) {
		t.Errorf("text %q", got)
	}
	if got := f.count(http.MethodGet, "/version"); got != 1+fastRetry.MaxRetries {
		t.Errorf("%d attempts, want %d", got, 1+fastRetry.MaxRetries)
	}
}

func checkCreateOutcome(t *testing.T, err error, ambiguous bool, text string) {
	t.Helper()
	if err == nil {
		if text != "" || ambiguous {
			t.Fatal("the create succeeded, want an error")
		}
		return
	}
	var amb *AmbiguousCreateError
	if got := errors.As(err, &amb); got != ambiguous {
		t.Errorf("ambiguous = %v, want %v: %v", got, ambiguous, err)
	}
	if ambiguous && amb.VMID < 150 {
		t.Errorf("ambiguous error names vmid %d", amb.VMID)
	}
	if !strings.Contains(err.Error(), text) {
		t.Errorf("error %q does not contain %q", err, text)
	}
	if strings.Contains(err.Error(), "refused to create") {
		t.Errorf("error %q calls a failure a refusal", err)
	}
}

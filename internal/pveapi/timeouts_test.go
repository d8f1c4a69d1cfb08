package pveapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A short bound keeps the tests quick; the backstop deadline is far longer,
// so a test that ends with a *TimeoutError shows the bound ended the
// request, not the test's own deadline.
const (
	testBound    = 300 * time.Millisecond
	testBackstop = 30 * time.Second
)

// silentListener accepts TCP connections and never sends a byte: a server
// that never completes TLS. It counts the connections it accepted.
type silentListener struct {
	ln       net.Listener
	accepted atomic.Int32
	mu       sync.Mutex
	conns    []net.Conn
}

func newSilentListener(t *testing.T) *silentListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentListener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			_ = c.Close()
		}
	})
	return s
}

func TestTLSHandshakeThatNeverCompletesFailsWithinConnectTimeout(t *testing.T) {
	srv := newSilentListener(t)
	c, err := New(Config{
		Endpoint:       "https://" + srv.ln.Addr().String(),
		APIToken:       testToken,
		Insecure:       true,
		ConnectTimeout: testBound,
		Retry:          fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testBackstop)
	defer cancel()

	_, err = c.Version(ctx)
	var timeout *TimeoutError
	if !errors.As(err, &timeout) {
		t.Fatalf("want a *TimeoutError, got %T: %v", err, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the test's backstop deadline ended the request, not connect_timeout: %v", err)
	}
	if timeout.Phase != PhaseTLSHandshake || timeout.Limit != testBound {
		t.Errorf("phase %q, limit %s; want %q, %s", timeout.Phase, timeout.Limit, PhaseTLSHandshake, testBound)
	}
	for _, want := range []string{"GET /version", "TLS handshake with " + srv.ln.Addr().String(), "did not complete within 300ms", "connect_timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Not retried: one connection, so the bound is not multiplied.
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("the server accepted %d connections; a timed-out handshake must not be retried", n)
	}
}

func TestServerThatNeverAnswersFailsWithinResponseTimeout(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
		"PUT /nodes/pve/lxc/100/config": func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
	})
	defer close(release)
	c := newTestClient(t, f, func(cfg *Config) { cfg.ResponseTimeout = testBound })
	ctx, cancel := context.WithTimeout(context.Background(), testBackstop)
	defer cancel()

	for _, tc := range []struct {
		method, path string
	}{{http.MethodGet, "/version"}, {http.MethodPut, "/nodes/pve/lxc/100/config"}} {
		calls.Store(0)
		err := c.Do(ctx, tc.method, tc.path, NewParams().Set("memory", "512"), nil)
		var timeout *TimeoutError
		if !errors.As(err, &timeout) {
			t.Fatalf("%s %s: want a *TimeoutError, got %T: %v", tc.method, tc.path, err, err)
		}
		if ctx.Err() != nil {
			t.Fatalf("the test's backstop deadline ended the request, not response_timeout: %v", err)
		}
		if timeout.Phase != PhaseResponse || timeout.Limit != testBound {
			t.Errorf("phase %q, limit %s; want %q, %s", timeout.Phase, timeout.Limit, PhaseResponse, testBound)
		}
		for _, want := range []string{tc.method + " " + tc.path, "accepted the connection but sent no response headers within 300ms", "response_timeout"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("%s %s reached the server %d times; a response timeout must not be retried", tc.method, tc.path, n)
		}
	}
}

func TestConnectionRefusedIsStillRetriedAndNotATimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there any more: connection refused
	c, err := New(Config{Endpoint: "https://" + addr, APIToken: testToken, Insecure: true, ConnectTimeout: testBound, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Version(context.Background())
	var timeout *TimeoutError
	if err == nil || errors.As(err, &timeout) {
		t.Fatalf("want a connection error that is not a *TimeoutError, got %v", err)
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q does not name the refused connection", err)
	}
}

func TestDefaultTimeoutsAndNegativeTimeoutsRejected(t *testing.T) {
	c, err := New(Config{Endpoint: "https://pve.example:8006", APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if c.connectTimeout != DefaultConnectTimeout || c.responseTimeout != DefaultResponseTimeout {
		t.Errorf("defaults: connect %s, response %s", c.connectTimeout, c.responseTimeout)
	}
	if _, err := New(Config{Endpoint: "https://pve.example:8006", APIToken: testToken, ResponseTimeout: -time.Second}); err == nil ||
		!strings.Contains(err.Error(), "response_timeout") {
		t.Errorf("a negative response timeout: %v", err)
	}
}

func TestBodyThatStopsArrivingFailsWithinResponseTimeout(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte(`{"data":{"vers`))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
	})
	defer close(release)
	c := newTestClient(t, f, func(cfg *Config) { cfg.ResponseTimeout = testBound })
	ctx, cancel := context.WithTimeout(context.Background(), testBackstop)
	defer cancel()

	_, err := c.Version(ctx)
	var timeout *TimeoutError
	if !errors.As(err, &timeout) || timeout.Phase != PhaseResponseBody {
		t.Fatalf("want a *TimeoutError for the body, got %T: %v", err, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the test's backstop deadline ended the request, not response_timeout: %v", err)
	}
	if want := "sent the response headers but not the rest of the answer within 300ms (response_timeout)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the request reached the server %d times; a stalled body must not be retried", n)
	}
}

// A create whose answer does not come within response_timeout went out in
// full, so Proxmox VE may have carried it out: it is ambiguous and names the
// bound. One whose TLS handshake never completed did not go out: a plain
// error.
func TestTimedOutCreateIsAmbiguousOnlyAfterItWasSent(t *testing.T) {
	release := make(chan struct{})
	f := newFakePVE(t, map[string]http.HandlerFunc{"POST " + createPath: func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}})
	defer close(release)
	c := newTestClient(t, f, func(cfg *Config) { cfg.ResponseTimeout = testBound })
	ctx, cancel := context.WithTimeout(context.Background(), testBackstop)
	defer cancel()
	_, err := c.CreateContainerAsync(ctx, "pve", 150, NewParams())
	var timeout *TimeoutError
	if !errors.As(err, &timeout) || timeout.Phase != PhaseResponse {
		t.Fatalf("want a response *TimeoutError, got %T: %v", err, err)
	}
	checkCreateOutcome(t, err, true, "sent no response headers within 300ms (response_timeout)")
	if got := f.count(http.MethodPost, createPath); got != 1 {
		t.Errorf("%d create requests, want 1", got)
	}

	srv := newSilentListener(t)
	c, err = New(Config{Endpoint: "https://" + srv.ln.Addr().String(), APIToken: testToken, Insecure: true, ConnectTimeout: testBound, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateContainerAsync(ctx, "pve", 150, NewParams())
	if !errors.As(err, &timeout) || timeout.Phase != PhaseTLSHandshake {
		t.Fatalf("want a TLS handshake *TimeoutError, got %T: %v", err, err)
	}
	checkCreateOutcome(t, err, false, "did not complete within 300ms (connect_timeout)")
}

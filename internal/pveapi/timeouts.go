package pveapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// The per-request bounds. A server that accepts connections but never
// completes TLS, or completes TLS but never answers, would otherwise hold a
// request until the operation's own timeout (30 minutes for a create).
const (
	// DefaultConnectTimeout bounds the TCP connect and, separately, the TLS
	// handshake of a new connection.
	DefaultConnectTimeout = 15 * time.Second
	// DefaultResponseTimeout bounds the wait for the response headers once
	// a request has been sent. PVE answers long operations with a task id
	// at once; its slowest synchronous calls (a PUT config that allocates a
	// new mount point volume) take seconds, not minutes.
	DefaultResponseTimeout = 60 * time.Second
)

// TimeoutPhase names the part of a request that ran out of time.
type TimeoutPhase string

const (
	// PhaseConnect: the TCP connection was not established in time.
	PhaseConnect TimeoutPhase = "connect"
	// PhaseTLSHandshake: the server accepted the TCP connection but the TLS
	// handshake did not finish in time.
	PhaseTLSHandshake TimeoutPhase = "tls-handshake"
	// PhaseResponse: the request was sent but no response headers came back
	// in time.
	PhaseResponse TimeoutPhase = "response"
	// PhaseResponseBody: the headers came, but the rest of the answer
	// stopped arriving.
	PhaseResponseBody TimeoutPhase = "response-body"
)

// TimeoutError reports a request that hit ConnectTimeout or ResponseTimeout.
// It is never retried: the configured bound is the bound, and retrying would
// multiply it.
type TimeoutError struct {
	Phase        TimeoutPhase
	Method, Path string
	// Host is the host:port the client talked to.
	Host string
	// Limit is the bound that was exceeded.
	Limit time.Duration
	// Err is the *TransportError of the request: the transport's own error
	// and whether the request left in full.
	Err error
}

func (e *TimeoutError) Error() string {
	switch e.Phase {
	case PhaseConnect:
		return fmt.Sprintf("%s %s: connecting to %s did not complete within %s (connect_timeout): nothing accepted the connection; check the endpoint's host and port and any firewall in between",
			e.Method, e.Path, e.Host, e.Limit)
	case PhaseTLSHandshake:
		return fmt.Sprintf("%s %s: the TLS handshake with %s did not complete within %s (connect_timeout): the server accepted the connection but never completed TLS; check that the endpoint is the Proxmox VE API port (8006) and that no proxy or firewall holds the connection",
			e.Method, e.Path, e.Host, e.Limit)
	case PhaseResponseBody:
		return fmt.Sprintf("%s %s: the server %s sent the response headers but not the rest of the answer within %s (response_timeout)",
			e.Method, e.Path, e.Host, e.Limit)
	default:
		return fmt.Sprintf("%s %s: the server %s accepted the connection but sent no response headers within %s (response_timeout); the request may still be running there",
			e.Method, e.Path, e.Host, e.Limit)
	}
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout marks the error as a timeout for callers that test net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// requestPhases records how far one request got, from the transport's
// trace hooks, so a timeout can be attributed to the phase that stalled.
// The hooks may run on the transport's dialing goroutine.
type requestPhases struct {
	mu         sync.Mutex
	tlsStarted bool
	gotConn    bool
}

func (p *requestPhases) withTrace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		TLSHandshakeStart: func() { p.set(&p.tlsStarted) },
		GotConn:           func(httptrace.GotConnInfo) { p.set(&p.gotConn) },
	})
}

func (p *requestPhases) set(flag *bool) {
	p.mu.Lock()
	*flag = true
	p.mu.Unlock()
}

// stalled names the phase a timed-out request was in.
func (p *requestPhases) stalled() TimeoutPhase {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.gotConn:
		return PhaseResponse
	case p.tlsStarted:
		return PhaseTLSHandshake
	}
	return PhaseConnect
}

// asTimeoutError turns a request without an answer that ran out of
// connect_timeout or response_timeout into a *TimeoutError naming the phase
// and the bound; it wraps terr, which keeps whether the request left in
// full (so a timed-out create still counts as possibly carried out). Other
// failures, and the caller's own deadline or cancellation, are returned as
// terr.
func (c *Client) asTimeoutError(ctx context.Context, cl call, phases *requestPhases, terr *TransportError) error {
	var netErr net.Error
	if ctx.Err() != nil || !errors.As(terr.Err, &netErr) || !netErr.Timeout() {
		return terr
	}
	phase := phases.stalled()
	limit := c.connectTimeout
	if phase == PhaseResponse {
		limit = c.responseTimeout
	}
	return &TimeoutError{Phase: phase, Method: cl.method, Path: cl.path, Host: c.base.Host, Limit: limit, Err: terr}
}

// errBodyStalled is the cause readBody cancels a request with.
var errBodyStalled = errors.New("the response body stopped arriving")

// readBody reads and closes a response body under response_timeout, so a
// server that sends the headers and then stalls cannot hold a request
// either. cancel ends the request's context. A body that cannot be read is
// a *TransportError of a request that was sent (the status line arrived,
// so the request was handled), wrapped in a *TimeoutError when the bound
// ran out.
func (c *Client) readBody(cl call, resp *http.Response, cancel context.CancelCauseFunc) ([]byte, error) {
	timer := time.AfterFunc(c.responseTimeout, func() { cancel(errBodyStalled) })
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	fired := !timer.Stop()
	if closeErr := resp.Body.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		return raw, nil
	}
	terr := &TransportError{Method: cl.method, Path: cl.path, Endpoint: c.endpoint, Sent: true,
		Err: fmt.Errorf("reading the %s answer: %w", resp.Status, err)}
	if fired {
		return nil, &TimeoutError{Phase: PhaseResponseBody, Method: cl.method, Path: cl.path, Host: c.base.Host, Limit: c.responseTimeout, Err: terr}
	}
	return nil, terr
}

package pveapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Client talks to one Proxmox VE API endpoint. It is safe for concurrent use;
// the provider builds one and shares it between all resources, which is what
// makes its request cap and VMID serialisation effective.
type Client struct {
	base      *url.URL // https://host:8006/api2/json
	endpoint  string
	httpc     *http.Client
	auth      authenticator
	retry     RetryPolicy
	poll      TaskPollPolicy
	requests  semaphore       // MaxParallelRequests
	vmidLock  semaphore       // serialises nextid + create
	imageLock semaphore       // serialises EnsureOSImage, so one image is downloaded once
	verified  map[string]bool // image files checked against a checksum (under imageLock)
	lookups   *lookupCache    // storage lists and OS images, shared by the creates of one apply
	userAgent string
	now       func() time.Time

	connectTimeout, responseTimeout time.Duration
}

// New validates cfg and builds a client: exactly one auth mode, an https
// endpoint, a well-formed fingerprint, parseable CA PEM, no insecure together
// with a CA or pin. It does no network I/O; a ticket login happens on the
// first request.
func New(cfg Config) (*Client, error) {
	base, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	mode, err := cfg.validateAuth()
	if err != nil {
		return nil, err
	}
	tlsConfig, err := buildTLSConfig(cfg, base.Hostname())
	if err != nil {
		return nil, err
	}
	if cfg.MaxParallelRequests < 0 {
		return nil, fmt.Errorf("max_parallel_requests must be at least 1, got %d", cfg.MaxParallelRequests)
	}
	parallel := cfg.MaxParallelRequests
	if parallel == 0 {
		parallel = defaultMaxParallelRequests
	}
	if cfg.ConnectTimeout < 0 || cfg.ResponseTimeout < 0 {
		return nil, errors.New("connect_timeout and response_timeout must be positive durations")
	}
	c := &Client{
		base:      base,
		endpoint:  strings.TrimSuffix(base.String(), "/api2/json"),
		retry:     cfg.Retry.withDefaults(),
		poll:      cfg.TaskPoll.withDefaults(),
		requests:  newSemaphore(parallel),
		vmidLock:  newSemaphore(1),
		imageLock: newSemaphore(1),
		verified:  map[string]bool{},
		userAgent: cfg.UserAgent,
		now:       cfg.Now,

		connectTimeout:  cmp.Or(cfg.ConnectTimeout, DefaultConnectTimeout),
		responseTimeout: cmp.Or(cfg.ResponseTimeout, DefaultResponseTimeout),
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.lookups = newLookupCache(c.now)
	c.httpc = &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: c.connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       tlsConfig,
			TLSHandshakeTimeout:   c.connectTimeout,
			ResponseHeaderTimeout: c.responseTimeout,
			MaxIdleConns:          2 * parallel,
			MaxIdleConnsPerHost:   parallel,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		// The API never redirects; following one could carry credentials
		// elsewhere, so a 3xx is returned as an error instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	switch mode {
	case authToken:
		id, _, _ := splitAPIToken(cfg.APIToken)
		c.auth = &tokenAuth{token: cfg.APIToken, id: id}
	case authPassword:
		c.auth = newPasswordAuth(c.login, c.now, cfg.Username, cfg.Password)
	case authTicket:
		c.auth = newPreissuedTicketAuth(c.login, c.now, cfg.AuthTicket, cfg.CSRFPreventionToken)
	}
	return c, nil
}

// Identity is who the requests run as: "root@pam", or the token id
// "root@pam!tf". PVE's root@pam-only rules never match a token id.
func (c *Client) Identity() string { return c.auth.identity() }

// UsesAPIToken reports whether requests authenticate with an API token.
func (c *Client) UsesAPIToken() bool { return c.auth.isToken() }

// Endpoint is the normalised endpoint URL without "/api2/json".
func (c *Client) Endpoint() string { return c.endpoint }

// Do sends one API request and decodes the "data" member of the answer into
// out (a pointer; nil to discard). path is relative to /api2/json, e.g.
// "/nodes/pve/lxc", with path segments already escaped (see the typed
// methods). in is nil or a *Params: sent as a form body for POST and PUT, as
// the query string for GET and DELETE (PVE rejects bodies on those). Errors
// are *APIError (matching ErrNotFound, ErrAlreadyExists, ErrLocked), a
// *DecodeError, or a transport/context error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	params, err := asParams(in)
	if err != nil {
		return err
	}
	res, err := c.send(ctx, call{method: method, path: path, params: params})
	if err != nil {
		return err
	}
	return res.decode(out)
}

// DecodeError reports a 2xx answer whose body is not the expected JSON.
type DecodeError struct {
	Method, Path string
	Err          error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s %s: unexpected response: %v", e.Method, e.Path, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

func asParams(in any) (*Params, error) {
	switch p := in.(type) {
	case nil:
		return nil, nil
	case *Params:
		return p, nil
	case Params:
		return &p, nil
	}
	return nil, fmt.Errorf("pveapi: request parameters must be *pveapi.Params, got %T", in)
}

// apiPath joins path segments, escaping each one. pve-http-server unescapes
// the whole path before routing, and the storage content handler takes the
// rest of the path as the volume id, so "local:vztmpl/x.tar.zst" (sent as
// "local:vztmpl%2Fx.tar.zst") and token ids in UPIDs arrive intact.
func apiPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// call is one logical API request, possibly sent several times.
type call struct {
	method, path string
	params       *Params
	// login marks POST /access/ticket: sent without credentials and, as it
	// changes nothing on the server, retried like a read.
	login bool
}

func (cl call) idempotent() bool { return cl.method == http.MethodGet || cl.login }

// result is a decoded success envelope plus how the call went.
type result struct {
	call  call
	data  json.RawMessage
	total int
	// retriedAfter lists the errors of attempts that were retried, so a
	// caller can tell whether an earlier attempt may have had an effect.
	retriedAfter []error
}

func (r result) decode(out any) error {
	if out == nil {
		return nil
	}
	if err := decodeLoose(r.data, out); err != nil {
		return &DecodeError{Method: r.call.method, Path: r.call.path, Err: err}
	}
	return nil
}

// maxResponseBytes bounds a response body; the largest PVE answers the
// provider reads (aplinfo, cluster resources) are far below this.
const maxResponseBytes = 64 << 20

// send is the one request core: credentials, the request cap, the retry
// policy, the one re-login after a 401, envelope decoding and error
// classification all happen here and nowhere else.
func (c *Client) send(ctx context.Context, cl call) (result, error) {
	if !strings.HasPrefix(cl.path, "/") {
		return result{}, fmt.Errorf("pveapi: path %q must start with \"/\"", cl.path)
	}
	res := result{call: cl}
	retries := 0
	reauthenticated := false
	for attempt := 1; ; attempt++ {
		var cred credentials
		if !cl.login {
			var err error
			if cred, err = c.auth.prepare(ctx); err != nil {
				return res, err
			}
		}
		data, total, err := c.roundTrip(ctx, cl, cred, attempt)
		if err == nil {
			res.data, res.total = data, total
			return res, nil
		}

		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized && !cl.login {
			// PVE rejects auth before running any handler, so sending the
			// request again after a fresh login is safe for every method.
			if !reauthenticated {
				ok, authErr := c.auth.unauthorized(ctx, cred)
				if authErr != nil {
					return res, authErr
				}
				if ok {
					reauthenticated = true
					continue
				}
			}
			return res, c.auth.rejected(err)
		}

		if retries >= c.retry.MaxRetries || !retryable(ctx, cl.idempotent(), err) {
			return res, err
		}
		retries++
		wait := c.retry.backoff(retries)
		fields := map[string]any{
			"method": cl.method, "path": cl.path, "attempt": attempt,
			"retry": retries, "max_retries": c.retry.MaxRetries, "wait_ms": wait.Milliseconds(),
			"error": err.Error(),
		}
		if apiErr != nil {
			fields["status"] = apiErr.Status
		}
		subsystemWarn(ctx, "retrying Proxmox VE API request", fields)
		res.retriedAfter = append(res.retriedAfter, err)
		if waitErr := sleep(ctx, wait); waitErr != nil {
			return res, fmt.Errorf("%w (retry abandoned: %w)", err, waitErr)
		}
	}
}

// roundTrip sends one attempt and classifies its answer.
func (c *Client) roundTrip(ctx context.Context, cl call, cred credentials, attempt int) (json.RawMessage, int, error) {
	u, err := url.Parse(c.base.String() + cl.path)
	if err != nil {
		return nil, 0, fmt.Errorf("pveapi: bad path %q: %w", cl.path, err)
	}
	var body io.Reader
	encoded := cl.params.Encode()
	switch cl.method {
	case http.MethodGet, http.MethodDelete:
		u.RawQuery = encoded
	default:
		if encoded != "" {
			body = strings.NewReader(encoded)
		}
	}
	phases := &requestPhases{}
	reqCtx, cancelReq := context.WithCancelCause(phases.withTrace(ctx))
	defer cancelReq(nil)
	req, err := http.NewRequestWithContext(reqCtx, cl.method, u.String(), body)
	if err != nil {
		return nil, 0, fmt.Errorf("pveapi: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	cred.apply(req)

	subsystemTrace(ctx, "sending request", map[string]any{
		"method": cl.method, "path": cl.path, "attempt": attempt,
		"param_keys": cl.params.Keys(), "delete_keys": cl.params.Deletes(),
	})
	if err := c.requests.acquire(ctx); err != nil {
		return nil, 0, err
	}
	// sent records whether the request left in full: only then can PVE
	// have acted on it (see TransportError.Sent).
	var sent atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	}))
	start := time.Now()
	resp, err := c.httpc.Do(req)
	if err != nil {
		c.requests.release()
		terr := &TransportError{Method: cl.method, Path: cl.path, Endpoint: c.endpoint, Sent: sent.Load(), Err: err}
		failure := c.asTimeoutError(ctx, cl, phases, terr)
		subsystemDebug(ctx, "request failed", map[string]any{
			"method": cl.method, "path": cl.path, "attempt": attempt,
			"duration_ms": time.Since(start).Milliseconds(), "error": failure.Error(), "sent": terr.Sent,
		})
		return nil, 0, failure
	}
	raw, readErr := c.readBody(cl, resp, cancelReq)
	c.requests.release()
	subsystemDebug(ctx, "request done", map[string]any{
		"method": cl.method, "path": cl.path, "attempt": attempt,
		"status": resp.StatusCode, "duration_ms": time.Since(start).Milliseconds(),
	})
	if readErr != nil {
		return nil, 0, readErr
	}
	if len(raw) > maxResponseBytes {
		return nil, 0, &DecodeError{Method: cl.method, Path: cl.path, Err: fmt.Errorf("response larger than %d bytes", maxResponseBytes)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, 0, newAPIError(cl.method, cl.path, resp.StatusCode, reasonPhrase(resp), raw)
	}
	var env struct {
		Data  json.RawMessage `json:"data"`
		Total json.RawMessage `json:"total"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, 0, &DecodeError{Method: cl.method, Path: cl.path, Err: err}
	}
	total := 0
	if len(env.Total) > 0 && string(env.Total) != "null" {
		n, err := looseInt(env.Total)
		if err != nil {
			return nil, 0, &DecodeError{Method: cl.method, Path: cl.path, Err: fmt.Errorf("total: %w", err)}
		}
		total = int(n)
	}
	return env.Data, total, nil
}

// reasonPhrase extracts the text after the status code: PVE puts the first
// line of its error message there.
func reasonPhrase(resp *http.Response) string {
	return strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// login performs POST /access/ticket. The password may be a still-valid
// ticket, which renews it.
func (c *Client) login(ctx context.Context, username, password string) (loginResult, error) {
	params := NewParams().Set("username", username).Set("password", password)
	res, err := c.send(ctx, call{method: http.MethodPost, path: "/access/ticket", params: params, login: true})
	if err != nil {
		return loginResult{}, err
	}
	var out loginResult
	if err := res.decode(&out); err != nil {
		return loginResult{}, err
	}
	if err := checkLoginResult(out); err != nil {
		return loginResult{}, err
	}
	return out, nil
}

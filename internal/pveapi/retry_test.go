package pveapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// failThen answers the first n requests with fail, then with ok.
func failThen(n int32, fail, ok http.HandlerFunc) http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			fail(w, r)
			return
		}
		ok(w, r)
	}
}

func versionOK(w http.ResponseWriter, _ *http.Request) {
	writeData(w, map[string]any{"version": "9.1.2", "release": "9.1"})
}

func TestGetRetriedOn502(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": failThen(1, func(w http.ResponseWriter, _ *http.Request) {
			writeRaw(w, http.StatusBadGateway, "Bad Gateway", "")
		}, versionOK),
	})
	c := newTestClient(t, f, nil)
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatalf("Version: %v", err)
	}
	if n := f.count(http.MethodGet, "/version"); n != 2 {
		t.Errorf("requests = %d, want 2 (one retry after the 502)", n)
	}
}

func TestGetRetriedOnDroppedConnection(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": failThen(2, func(w http.ResponseWriter, _ *http.Request) { dropConnection(w) }, versionOK),
	})
	c := newTestClient(t, f, nil)
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatalf("Version: %v", err)
	}
	if n := f.count(http.MethodGet, "/version"); n < 3 {
		t.Errorf("requests = %d, want at least 3 (two dropped, then answered)", n)
	}
}

func TestGetGivesUpAfterMaxRetries(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": func(w http.ResponseWriter, _ *http.Request) {
			writeRaw(w, http.StatusServiceUnavailable, "Service Unavailable", "")
		},
	})
	c := newTestClient(t, f, nil)
	_, err := c.Version(t.Context())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want the 503", err)
	}
	if n := f.count(http.MethodGet, "/version"); n != fastRetry.MaxRetries+1 {
		t.Errorf("requests = %d, want %d", n, fastRetry.MaxRetries+1)
	}
}

func TestNotRetried(t *testing.T) {
	cases := []struct {
		name   string
		method string
		path   string
		answer http.HandlerFunc
		call   func(context.Context, *Client) error
	}{
		{
			name: "596 on a read", method: http.MethodGet, path: "/nodes/pve2/lxc",
			answer: func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, StatusProxyError, "Broken pipe", "") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.ListContainers(ctx, "pve2")
				return err
			},
		},
		{
			name: "501 on a read", method: http.MethodGet, path: "/nodes/pve/lxc/100/interfaces",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writePVEError(w, http.StatusNotImplemented, "Method 'GET /nodes/pve/lxc/100/interfaces' not implemented", nil)
			},
			call: func(ctx context.Context, c *Client) error {
				_, err := c.ContainerInterfaces(ctx, "pve", 100)
				return err
			},
		},
		{
			name: "500 does not exist on a read", method: http.MethodGet, path: "/nodes/pve/lxc/100/config",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writePVEError(w, http.StatusInternalServerError, "Configuration file 'nodes/pve/lxc/100.conf' does not exist", nil)
			},
			call: func(ctx context.Context, c *Client) error {
				_, err := c.ContainerConfig(ctx, "pve", 100)
				return err
			},
		},
		{
			name: "a node's answer about a URL", method: http.MethodGet, path: "/nodes/pve/query-url-metadata",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writePVEError(w, http.StatusInternalServerError, "invalid server response: '404 Not Found'", nil)
			},
			call: func(ctx context.Context, c *Client) error {
				_, err := c.QueryURLMetadata(ctx, "pve", "https://images.example/x")
				return err
			},
		},
		{
			name: "plain 500 on create", method: http.MethodPost, path: "/nodes/pve/lxc",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writePVEError(w, http.StatusInternalServerError, "unable to create CT 100 - storage 'local' does not support container directories", nil)
			},
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateContainerAsync(ctx, "pve", 100, NewParams().Set("ostemplate", "local:vztmpl/x.tar.zst"))
				return err
			},
		},
		{
			name: "502 on create", method: http.MethodPost, path: "/nodes/pve/lxc",
			answer: func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, http.StatusBadGateway, "Bad Gateway", "") },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateContainerAsync(ctx, "pve", 100, NewParams())
				return err
			},
		},
		{
			name: "dropped connection on create", method: http.MethodPost, path: "/nodes/pve/lxc",
			answer: func(w http.ResponseWriter, _ *http.Request) { dropConnection(w) },
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateContainerAsync(ctx, "pve", 100, NewParams())
				return err
			},
		},
		{
			name: "persistent config lock on update", method: http.MethodPut, path: "/nodes/pve/lxc/100/config",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writePVEError(w, http.StatusInternalServerError, "CT is locked (backup)", nil)
			},
			call: func(ctx context.Context, c *Client) error {
				return c.UpdateContainerConfig(ctx, "pve", 100, NewParams().SetInt("cores", 2), "")
			},
		},
		{
			name: "400 on a read", method: http.MethodGet, path: "/cluster/nextid",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writePVEError(w, http.StatusBadRequest, "Parameter verification failed.", map[string]string{"vmid": "VM 100 already exists"})
			},
			call: func(ctx context.Context, c *Client) error {
				hint := 100
				_, err := c.NextID(ctx, &hint)
				return err
			},
		},
		{
			name: "401 with an API token", method: http.MethodGet, path: "/version",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeRaw(w, http.StatusUnauthorized, "Authentication failed!", "")
			},
			call: func(ctx context.Context, c *Client) error {
				_, err := c.Version(ctx)
				return err
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePVE(t, map[string]http.HandlerFunc{tc.method + " " + tc.path: tc.answer})
			c := newTestClient(t, f, nil)
			if err := tc.call(t.Context(), c); err == nil {
				t.Fatal("want an error")
			}
			if n := f.count(tc.method, tc.path); n != 1 {
				t.Errorf("requests = %d, want exactly 1 (not retried)", n)
			}
		})
	}
}

func TestMutationRetriedOnTransientPVEMessages(t *testing.T) {
	for _, msg := range []string{
		"can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout",
		"cfs-lock 'storage-local-lvm' error: got lock request timeout",
		"got no worker upid - start worker failed",
	} {
		t.Run(msg, func(t *testing.T) {
			f := newFakePVE(t, map[string]http.HandlerFunc{
				"PUT /nodes/pve/lxc/100/config": failThen(2, func(w http.ResponseWriter, _ *http.Request) {
					writePVEError(w, http.StatusInternalServerError, msg, nil)
				}, func(w http.ResponseWriter, _ *http.Request) { writeData(w, nil) }),
			})
			c := newTestClient(t, f, nil)
			if err := c.UpdateContainerConfig(t.Context(), "pve", 100, NewParams().SetInt("memory", 1024), ""); err != nil {
				t.Fatalf("update: %v", err)
			}
			reqs := f.recorded()
			if len(reqs) != 3 {
				t.Fatalf("requests = %d, want 3", len(reqs))
			}
			for _, r := range reqs {
				if r.Body != "memory=1024" {
					t.Errorf("retried body = %q, want the same parameters every time", r.Body)
				}
			}
		})
	}
}

func TestRetryWaitEndsWithContext(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, http.StatusBadGateway, "Bad Gateway", "") },
	})
	c := newTestClient(t, f, func(cfg *Config) {
		cfg.Retry = RetryPolicy{MaxRetries: 5, MinBackoff: time.Hour, MaxBackoff: time.Hour}
	})
	// Long enough for the first attempt on a loaded machine; the retry
	// would wait an hour, so the deadline always ends the wait.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := c.Version(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline error", err)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadGateway {
		t.Errorf("err = %v, want the last API error kept as well", err)
	}
	if n := f.count(http.MethodGet, "/version"); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := RetryPolicy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	if p.MaxRetries != defaultMaxRetries {
		t.Errorf("MaxRetries default = %d", p.MaxRetries)
	}
	bounds := []struct{ lo, hi time.Duration }{
		{50 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 200 * time.Millisecond},
		{200 * time.Millisecond, 400 * time.Millisecond},
		{400 * time.Millisecond, 800 * time.Millisecond},
		{500 * time.Millisecond, time.Second},
		{500 * time.Millisecond, time.Second},
	}
	for i, b := range bounds {
		for range 50 {
			if d := p.backoff(i + 1); d < b.lo || d > b.hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", i+1, d, b.lo, b.hi)
			}
		}
	}
	if off := (RetryPolicy{MaxRetries: -1}).withDefaults(); off.MaxRetries != 0 {
		t.Errorf("negative MaxRetries must disable retries, got %d", off.MaxRetries)
	}
}

func TestMutationRetriedWhenConnectionNeverOpened(t *testing.T) {
	if !notSent(&netOpErrorDial) {
		t.Fatal("a dial error means the request was never sent")
	}
	if retryable(t.Context(), false, errors.New("EOF")) {
		t.Error("a mutation must not be retried after an ambiguous transport error")
	}
	if !retryable(t.Context(), false, &netOpErrorDial) {
		t.Error("a mutation whose connection could not be opened may be retried")
	}
}

var netOpErrorDial = net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}

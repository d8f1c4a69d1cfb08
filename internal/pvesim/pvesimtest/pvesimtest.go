package pvesimtest

import (
	"context"
	"crypto/x509"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// Sim is a simulator started for one Go test; it is closed when the test
// ends. Everything of Server is available on it.
type Sim struct {
	*pvesim.Server
}

// Option adjusts the Config a test simulator starts with.
type Option func(*pvesim.Config)

// WithNodes names the cluster's nodes (default "pve").
func WithNodes(names ...string) Option { return func(c *pvesim.Config) { c.Nodes = names } }

// WithAPIToken sets root@pam's token, "root@pam!name=secret".
func WithAPIToken(token string) Option { return func(c *pvesim.Config) { c.APIToken = token } }

// WithRootPassword sets root@pam's password.
func WithRootPassword(pw string) Option { return func(c *pvesim.Config) { c.RootPassword = pw } }

// WithTicketLifetime shortens (or lengthens) the 2 h ticket lifetime.
func WithTicketLifetime(d time.Duration) Option {
	return func(c *pvesim.Config) { c.TicketLifetime = d }
}

// WithTaskDuration sets how long every task runs.
func WithTaskDuration(d time.Duration) Option { return func(c *pvesim.Config) { c.TaskDuration = d } }

// WithTaskDurationFor sets how long tasks of one type ("vzcreate") run.
func WithTaskDurationFor(taskType string, d time.Duration) Option {
	return func(c *pvesim.Config) {
		if c.TaskDurations == nil {
			c.TaskDurations = map[string]time.Duration{}
		}
		c.TaskDurations[taskType] = d
	}
}

// WithAuthFailureDelay delays 401 answers like PVE's 3 s.
func WithAuthFailureDelay(d time.Duration) Option {
	return func(c *pvesim.Config) { c.AuthFailureDelay = d }
}

// WithLockTimeouts sets the config lock waits (PVE: 10 s, and 5 s for
// create and clone).
func WithLockTimeouts(normal, create time.Duration) Option {
	return func(c *pvesim.Config) { c.LockTimeout, c.CreateLockTimeout = normal, create }
}

// WithBackend runs the containers on b instead of a fresh memory backend.
func WithBackend(b backend.Backend) Option { return func(c *pvesim.Config) { c.Backend = b } }

// WithStateDir keeps the simulator's state in dir across restarts.
func WithStateDir(dir string) Option { return func(c *pvesim.Config) { c.StateDir = dir } }

// WithClock replaces time.Now for tickets, UPIDs and timestamps.
func WithClock(now func() time.Time) Option { return func(c *pvesim.Config) { c.Now = now } }

// WithFault arms a fault from the start.
func WithFault(f pvesim.Fault) Option {
	return func(c *pvesim.Config) { c.Faults = append(c.Faults, f) }
}

// WithTemplates puts appliance templates on every node's "local" storage:
// index entries, or other versions of them (see Config.Templates).
func WithTemplates(names ...string) Option {
	return func(c *pvesim.Config) { c.Templates = append(c.Templates, names...) }
}

// WithStorages replaces the default storages ("local" and "local-lvm").
func WithStorages(storages ...pvesim.StorageConfig) Option {
	return func(c *pvesim.Config) { c.Storages = append(c.Storages, storages...) }
}

// WithoutSSH starts no SSH nodes.
func WithoutSSH() Option { return func(c *pvesim.Config) { c.DisableSSH = true } }

// WithAuthorizedKeys lets these keys log in to the nodes as root.
func WithAuthorizedKeys(keys ...ssh.PublicKey) Option {
	return func(c *pvesim.Config) { c.SSHAuthorizedKeys = append(c.SSHAuthorizedKeys, keys...) }
}

// WithDownloadRootCAs makes the nodes trust these authorities when they
// fetch a URL (download-url, query-url-metadata), e.g. an httptest TLS
// server's certificate.
func WithDownloadRootCAs(pool *x509.CertPool) Option {
	return func(c *pvesim.Config) { c.DownloadRootCAs = pool }
}

// WithRequestLog copies the request log, as JSON lines, to w.
func WithRequestLog(w io.Writer) Option { return func(c *pvesim.Config) { c.RequestLog = w } }

// New starts a simulator on 127.0.0.1 (random ports, SSH nodes included)
// for the test and closes it when the test ends. Diagnostics go to t.Logf.
func New(t testing.TB, opts ...Option) *Sim {
	t.Helper()
	var done atomic.Bool
	cfg := pvesim.Config{Logf: func(format string, args ...any) {
		if !done.Load() {
			t.Logf(format, args...)
		}
	}}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := pvesim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pvesim: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("pvesim: close: %v", err)
		}
		done.Store(true)
	})
	return &Sim{Server: srv}
}

// Memory returns the memory backend, or nil when the simulator runs another.
func (s *Sim) Memory() *backend.Memory {
	m, _ := s.Backend().(*backend.Memory)
	return m
}

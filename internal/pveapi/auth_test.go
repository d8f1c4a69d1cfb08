package pveapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/clocktest"
)

// ticketServer issues numbered tickets and accepts only the ones it lists
// as valid; renewal (password = a valid ticket) is supported like PVE.
type ticketServer struct {
	mu       sync.Mutex
	issued   int
	valid    map[string]bool
	password string
	logins   []string // "password" or "renew"
}

func newTicketServer(password string) *ticketServer {
	return &ticketServer{valid: map[string]bool{}, password: password}
}

func (s *ticketServer) ticket(n int) string {
	return fmt.Sprintf("PVE:root@pam:%08X::c2lnbmF0dXJl%d", 0x63DF62A5+n, n)
}

func (s *ticketServer) csrf(n int) string { return fmt.Sprintf("%08X:Y3NyZg%d", 0x63DF62A5+n, n) }

func (s *ticketServer) login(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user, pass := param(r, "username"), param(r, "password")
	kind := "password"
	switch {
	case user == "root@pam" && pass == s.password:
	case user == "root@pam" && s.valid[pass]:
		kind = "renew"
	default:
		writeRaw(w, http.StatusUnauthorized, "authentication failure", "")
		return
	}
	s.issued++
	t := s.ticket(s.issued)
	s.valid[t] = true
	s.logins = append(s.logins, kind)
	writeData(w, map[string]any{"username": "root@pam", "ticket": t, "CSRFPreventionToken": s.csrf(s.issued)})
}

// authorized checks the cookie and, on writes, the CSRF token.
func (s *ticketServer) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := strings.CutPrefix(r.Header.Get("Cookie"), "PVEAuthCookie=")
	if !ok || !s.valid[t] {
		writeRaw(w, http.StatusUnauthorized, "Authentication failed!", "")
		return false
	}
	if r.Method != http.MethodGet {
		for n := 1; n <= s.issued; n++ {
			if s.ticket(n) == t && r.Header.Get("CSRFPreventionToken") != s.csrf(n) {
				writeRaw(w, http.StatusUnauthorized, "Permission denied - invalid csrf token", "")
				return false
			}
		}
	}
	return true
}

func (s *ticketServer) revokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valid = map[string]bool{}
}

func (s *ticketServer) loginKinds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logins...)
}

func (s *ticketServer) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /access/ticket": s.login,
		"GET /version": func(w http.ResponseWriter, r *http.Request) {
			if s.authorized(w, r) {
				writeData(w, map[string]any{"version": "9.1.2"})
			}
		},
		"PUT /nodes/pve/lxc/100/config": func(w http.ResponseWriter, r *http.Request) {
			if s.authorized(w, r) {
				writeData(w, nil)
			}
		},
	}
}

func passwordClient(t *testing.T, f *fakePVE, clock *clocktest.Clock) *Client {
	return newTestClient(t, f, func(cfg *Config) {
		cfg.APIToken, cfg.Username, cfg.Password = "", "root@pam", "hunter2-pass"
		if clock != nil {
			cfg.Now = clock.Now
		}
	})
}

func TestTicketRenewedBeforeExpiry(t *testing.T) {
	srv := newTicketServer("hunter2-pass")
	f := newFakePVE(t, srv.routes())
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	c := passwordClient(t, f, clock)
	ctx := t.Context()

	if _, err := c.Version(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(80 * time.Minute) // still fresh: no renewal
	if _, err := c.Version(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.loginKinds(); len(got) != 1 {
		t.Fatalf("logins after 80 min = %v, want just the first", got)
	}
	clock.Advance(15 * time.Minute) // 95 min: renew before the 2 h expiry
	if err := c.UpdateContainerConfig(ctx, "pve", 100, NewParams().SetInt("cores", 1), ""); err != nil {
		t.Fatal(err)
	}
	if got := srv.loginKinds(); len(got) != 2 || got[1] != "renew" {
		t.Fatalf("logins = %v, want the ticket renewed with the old ticket as password", got)
	}
	reqs := f.recorded()
	renew := reqs[len(reqs)-2]
	if renew.Path != "/access/ticket" || renew.Form.Get("password") != srv.ticket(1) || renew.Form.Get("username") != "root@pam" {
		t.Errorf("renewal request = %s %s %v", renew.Method, renew.Path, renew.Form)
	}
	put := reqs[len(reqs)-1]
	if put.Header.Get("Cookie") != "PVEAuthCookie="+srv.ticket(2) || put.Header.Get("CSRFPreventionToken") != srv.csrf(2) {
		t.Errorf("the write after renewal did not use the new ticket and CSRF token")
	}
}

func TestExpiredTicketReplacedByFreshLogin(t *testing.T) {
	srv := newTicketServer("hunter2-pass")
	f := newFakePVE(t, srv.routes())
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	c := passwordClient(t, f, clock)
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Hour) // asleep past the lifetime: renewal impossible
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := srv.loginKinds(); len(got) != 2 || got[1] != "password" {
		t.Errorf("logins = %v, want a fresh password login", got)
	}
}

func TestReloginOnceOn401(t *testing.T) {
	srv := newTicketServer("hunter2-pass")
	f := newFakePVE(t, srv.routes())
	c := passwordClient(t, f, nil)
	ctx := t.Context()
	if _, err := c.Version(ctx); err != nil {
		t.Fatal(err)
	}
	srv.revokeAll() // e.g. the auth key rotated
	if err := c.UpdateContainerConfig(ctx, "pve", 100, NewParams().SetInt("cores", 1), ""); err != nil {
		t.Fatalf("the write after a re-login should succeed: %v", err)
	}
	if got := srv.loginKinds(); len(got) != 2 || got[1] != "password" {
		t.Errorf("logins = %v, want exactly one re-login", got)
	}
	if n := f.count(http.MethodPut, "/nodes/pve/lxc/100/config"); n != 2 {
		t.Errorf("PUT sent %d times, want 2 (rejected, then once more after the re-login)", n)
	}
}

func TestPersistent401AfterReloginIsAnError(t *testing.T) {
	srv := newTicketServer("hunter2-pass")
	routes := srv.routes()
	routes["GET /version"] = func(w http.ResponseWriter, _ *http.Request) {
		writeRaw(w, http.StatusUnauthorized, "Authentication failed!", "")
	}
	f := newFakePVE(t, routes)
	c := passwordClient(t, f, nil)
	_, err := c.Version(t.Context())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Message != "Authentication failed!" {
		t.Fatalf("err = %v, want the 401", err)
	}
	if got := srv.loginKinds(); len(got) != 2 {
		t.Errorf("logins = %v, want the first login plus exactly one re-login", got)
	}
	if n := f.count(http.MethodGet, "/version"); n != 2 {
		t.Errorf("GET sent %d times, want 2", n)
	}
}

func TestConcurrent401sShareOneRelogin(t *testing.T) {
	srv := newTicketServer("hunter2-pass")
	f := newFakePVE(t, srv.routes())
	c := passwordClient(t, f, nil)
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.revokeAll()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 8 {
		wg.Go(func() {
			if _, err := c.Version(t.Context()); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
	if got := srv.loginKinds(); len(got) != 2 {
		t.Errorf("logins = %v, want one re-login for the whole wave", got)
	}
}

func TestWrongPasswordFailsClearlyWithoutSecrets(t *testing.T) {
	srv := newTicketServer("the-real-one")
	f := newFakePVE(t, srv.routes())
	c := passwordClient(t, f, nil)
	_, err := c.Version(t.Context())
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "login as root@pam failed") || !strings.Contains(msg, "authentication failure") {
		t.Errorf("err = %q", msg)
	}
	if strings.Contains(msg, "hunter2-pass") {
		t.Errorf("the error leaks the password: %q", msg)
	}
	if n := f.count(http.MethodPost, "/access/ticket"); n != 1 {
		t.Errorf("login attempts = %d, a 401 login is not retried", n)
	}
}

func TestPreissuedTicket(t *testing.T) {
	srv := newTicketServer("unused")
	f := newFakePVE(t, srv.routes())
	// Issue ticket 1 out of band, as another tool would.
	srv.mu.Lock()
	srv.issued = 1
	srv.valid[srv.ticket(1)] = true
	srv.mu.Unlock()
	c := newTestClient(t, f, func(cfg *Config) {
		cfg.APIToken, cfg.AuthTicket, cfg.CSRFPreventionToken = "", srv.ticket(1), srv.csrf(1)
		cfg.Now = func() time.Time { return time.Unix(0x63DF62A5+1, 0).Add(time.Minute) }
	})
	if c.Identity() != "root@pam" {
		t.Errorf("Identity = %q", c.Identity())
	}
	if err := c.UpdateContainerConfig(t.Context(), "pve", 100, NewParams().SetInt("cores", 1), ""); err != nil {
		t.Fatal(err)
	}
	if n := f.count(http.MethodPost, "/access/ticket"); n != 0 {
		t.Errorf("a fresh pre-issued ticket needs no login, saw %d", n)
	}
	srv.revokeAll()
	_, err := c.Version(t.Context())
	if err == nil || !strings.Contains(err.Error(), "auth_ticket for root@pam was rejected") {
		t.Fatalf("err = %v, want the pre-issued ticket explanation", err)
	}
	if strings.Contains(err.Error(), srv.ticket(1)) {
		t.Errorf("the error leaks the ticket: %v", err)
	}
	if n := f.count(http.MethodPost, "/access/ticket"); n != 0 {
		t.Errorf("no password: no re-login possible, saw %d logins", n)
	}
}

func TestPreissuedTicketRenewedNearExpiry(t *testing.T) {
	srv := newTicketServer("unused")
	f := newFakePVE(t, srv.routes())
	srv.mu.Lock()
	srv.issued = 1
	srv.valid[srv.ticket(1)] = true
	srv.mu.Unlock()
	issued := time.Unix(0x63DF62A5+1, 0)
	c := newTestClient(t, f, func(cfg *Config) {
		cfg.APIToken, cfg.AuthTicket, cfg.CSRFPreventionToken = "", srv.ticket(1), srv.csrf(1)
		cfg.Now = func() time.Time { return issued.Add(100 * time.Minute) }
	})
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := srv.loginKinds(); len(got) != 1 || got[0] != "renew" {
		t.Errorf("logins = %v, want one renewal of the pre-issued ticket", got)
	}
}

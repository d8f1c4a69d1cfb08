package pvesim_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/clocktest"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

func TestLoginIssuesTicketAndCSRFInPVEFormat(t *testing.T) {
	sim := fastSim(t, pvesimtest.WithRootPassword("hunter22"))
	c := &apiClient{t: t, sim: sim, http: sim.HTTPClient()}
	r := c.do(http.MethodPost, "/access/ticket", url.Values{"username": {"root"}, "realm": {"pam"}, "password": {"hunter22"}}).ok(t)
	m := r.object(t)
	if m["username"] != "root@pam" {
		t.Errorf("username = %v", m["username"])
	}
	if !regexp.MustCompile(`^PVE:root@pam:[0-9A-F]{8}::[A-Za-z0-9+/]+=*$`).MatchString(m["ticket"].(string)) {
		t.Errorf("ticket = %v", m["ticket"])
	}
	if !regexp.MustCompile(`^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$`).MatchString(m["CSRFPreventionToken"].(string)) {
		t.Errorf("CSRF token = %v", m["CSRFPreventionToken"])
	}
	if cp, ok := m["cap"].(map[string]any); !ok || cp["vms"] == nil {
		t.Errorf("cap = %v", m["cap"])
	}
	c.do(http.MethodPost, "/access/ticket", url.Values{"username": {"root@pam"}, "password": {"wrong"}}).wantErr(t, 401, "authentication failure")
	c.do(http.MethodPost, "/access/ticket", url.Values{"username": {"admin@pve"}, "password": {"hunter22"}}).wantErr(t, 401, "authentication failure")
	// The request log masks the password.
	for _, rec := range sim.Requests() {
		if rec.Path == "/api2/json/access/ticket" && rec.Params["password"] != "********" {
			t.Errorf("password logged as %v", rec.Params["password"])
		}
	}
}

func TestAuthFailuresHaveEmptyBodies(t *testing.T) {
	sim := fastSim(t)
	anon := &apiClient{t: t, sim: sim, http: sim.HTTPClient()}
	tests := []struct {
		name   string
		c      *apiClient
		edit   func(*http.Request)
		reason string
	}{
		{"no credentials", anon, nil, "No ticket"},
		{"wrong token secret", anon, func(r *http.Request) {
			r.Header.Set("Authorization", "PVEAPIToken=root@pam!sim=00000000-0000-0000-0000-000000000000")
		}, "Authentication failed!"},
		{"unknown token", anon, func(r *http.Request) { r.Header.Set("Authorization", "PVEAPIToken=root@pam!other=x") }, "Authentication failed!"},
		{"forged ticket", anon, func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: "PVE:root@pam:66000000::c2lnbmF0dXJl"})
		}, "Authentication failed!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.doRaw(http.MethodGet, "/nodes", nil, tc.edit)
			if r.Status != 401 || r.Reason != tc.reason || len(r.Body) != 0 {
				t.Fatalf("got %d %q body %q, want 401 %q with an empty body", r.Status, r.Reason, r.Body, tc.reason)
			}
		})
	}
}

func TestTicketFormsAndCSRF(t *testing.T) {
	sim := fastSim(t)
	c := ticketClient(t, sim)
	c.do(http.MethodGet, "/nodes", nil).ok(t)
	// Header form of the ticket.
	hdr := &apiClient{t: t, sim: sim, http: sim.HTTPClient()}
	hdr.doRaw(http.MethodGet, "/nodes", nil, func(r *http.Request) { r.Header.Set("Authorization", "PVEAuthCookie="+c.ticket) }).ok(t)
	// Writes with a ticket need the CSRF token.
	noCSRF := hdr.doRaw(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}}, func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: c.ticket})
	})
	if noCSRF.Status != 401 || noCSRF.Reason != "Permission denied - invalid csrf token" || len(noCSRF.Body) != 0 {
		t.Fatalf("write without CSRF: %d %q %q", noCSRF.Status, noCSRF.Reason, noCSRF.Body)
	}
	wrongCSRF := hdr.doRaw(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}}, func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: c.ticket})
		r.Header.Set("CSRFPreventionToken", strings.Replace(c.csrf, c.csrf[9:12], "AAA", 1))
	})
	if wrongCSRF.Status != 401 {
		t.Fatalf("write with a wrong CSRF token: %d", wrongCSRF.Status)
	}
	c.do(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}}).ok(t)
	// Tokens never need CSRF, with "=" or a space after PVEAPIToken.
	tok := &apiClient{t: t, sim: sim, http: sim.HTTPClient()}
	tok.doRaw(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}}, func(r *http.Request) {
		r.Header.Set("Authorization", "PVEAPIToken "+sim.APIToken())
	}).ok(t)
}

func TestTicketExpiryAndRenewal(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	sim := fastSim(t, pvesimtest.WithClock(clock.Now))
	c := ticketClient(t, sim)
	clock.Advance(90 * time.Minute)
	// Renew with the still valid ticket as password.
	r := c.do(http.MethodPost, "/access/ticket", url.Values{"username": {"root@pam"}, "password": {c.ticket}}).ok(t).object(t)
	renewed := *c
	renewed.ticket, renewed.csrf = r["ticket"].(string), r["CSRFPreventionToken"].(string)
	if renewed.ticket == c.ticket {
		t.Fatal("renewal returned the same ticket")
	}
	clock.Advance(31 * time.Minute) // the first ticket is now 2 h 1 min old
	r2 := c.do(http.MethodGet, "/nodes", nil)
	if r2.Status != 401 || r2.Reason != "Authentication failed!" {
		t.Fatalf("expired ticket: %d %q", r2.Status, r2.Reason)
	}
	renewed.do(http.MethodGet, "/nodes", nil).ok(t)
	// An expired ticket cannot be renewed.
	c.do(http.MethodPost, "/access/ticket", url.Values{"username": {"root@pam"}, "password": {c.ticket}}).wantErr(t, 401, "authentication failure")
	// A shorter configured lifetime is honoured.
	short := fastSim(t, pvesimtest.WithClock(clock.Now), pvesimtest.WithTicketLifetime(time.Minute))
	sc := ticketClient(t, short)
	clock.Advance(2 * time.Minute)
	if r := sc.do(http.MethodGet, "/nodes", nil); r.Status != 401 {
		t.Fatalf("ticket older than the configured lifetime: %d", r.Status)
	}
}

func TestTicketExpiryFault(t *testing.T) {
	sim := fastSim(t)
	c := ticketClient(t, sim)
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultTicketExpiry, Method: http.MethodGet, Path: "/cluster/resources", Count: 1})
	c.do(http.MethodGet, "/nodes", nil).ok(t)
	r := c.do(http.MethodGet, "/cluster/resources", nil)
	if r.Status != 401 || r.Reason != "Authentication failed!" {
		t.Fatalf("after ticket-expiry fault: %d %q", r.Status, r.Reason)
	}
	c.do(http.MethodGet, "/nodes", nil).wantEmpty401(t)
	ticketClient(t, sim).do(http.MethodGet, "/cluster/resources", nil).ok(t)
	tokenClient(t, sim).do(http.MethodGet, "/nodes", nil).ok(t)
	// From Go, directly.
	c2 := ticketClient(t, sim)
	sim.Faults().ExpireTickets()
	c2.do(http.MethodGet, "/nodes", nil).wantEmpty401(t)
}

func (r apiResp) wantEmpty401(t testing.TB) {
	t.Helper()
	if r.Status != 401 || len(r.Body) != 0 {
		t.Fatalf("got %d %q %q, want an empty 401", r.Status, r.Reason, r.Body)
	}
}

func TestRootPamOnlyRulesForTokens(t *testing.T) {
	sim := fastSim(t)
	tok := tokenClient(t, sim)
	root := ticketClient(t, sim)
	base := url.Values{"ostemplate": {debianVol}, "storage": {"local-lvm"}}
	with := func(vmid string, kv ...string) url.Values {
		p := url.Values{"vmid": {vmid}}
		for k, v := range base {
			p[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			p.Set(kv[i], kv[i+1])
		}
		return p
	}
	denied := []struct {
		name   string
		params url.Values
		msg    string
	}{
		{"keyctl on unprivileged", with("101", "features", "nesting=1,keyctl=1"), "changing feature flags (except nesting) is only allowed for root@pam"},
		{"nesting=0 alone", with("101", "features", "nesting=0"), "changing feature flags (except nesting) is only allowed for root@pam"},
		{"features on privileged", with("101", "features", "nesting=1", "unprivileged", "0"), "changing feature flags for privileged container is only allowed for root@pam"},
		{"bind mount", with("101", "rootfs", "local-lvm:4", "mp0", "/srv/host,mp=/mnt/host"), "mount point type bind is only allowed for root@pam"},
		{"device mount", with("101", "rootfs", "local-lvm:4", "mp0", "/dev/sdb1,mp=/mnt/dev"), "mount point type device is only allowed for root@pam"},
		{"hookscript", with("101", "hookscript", "local:snippets/hook.sh"), "changing the hookscript is only allowed for root@pam"},
		{"device passthrough", with("101", "dev0", "/dev/fuse"), "configuring device passthrough is only allowed for root@pam"},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			tok.do(http.MethodPost, "/nodes/pve/lxc", tc.params).wantErr(t, 403, "Permission check failed ("+tc.msg+")")
		})
	}
	// Nesting alone is fine for a token; root@pam may do everything.
	tok.createCT("102", url.Values{"features": {"nesting=1"}})
	root.createCT("103", url.Values{"features": {"nesting=1,keyctl=1,fuse=1"}})
	root.createCT("104", url.Values{"features": {"nesting=1"}, "unprivileged": {"0"}})
	if ct, _ := sim.Container(103); ct.Config["features"] != "nesting=1,keyctl=1,fuse=1" {
		t.Errorf("features = %q", ct.Config["features"])
	}
	// The same rules on PUT config.
	tok.do(http.MethodPut, "/nodes/pve/lxc/102/config", url.Values{"features": {"nesting=1,fuse=1"}}).
		wantErr(t, 403, "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)")
	tok.do(http.MethodPut, "/nodes/pve/lxc/102/config", url.Values{"features": {"nesting=0"}}).ok(t)
	tok.do(http.MethodPut, "/nodes/pve/lxc/103/config", url.Values{"delete": {"features"}}).
		wantErr(t, 403, "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)")
	tok.do(http.MethodPut, "/nodes/pve/lxc/104/config", url.Values{"delete": {"features"}}).
		wantErr(t, 403, "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)")
	root.do(http.MethodPut, "/nodes/pve/lxc/103/config", url.Values{"delete": {"features"}}).ok(t)
	// Authentication comes before validation: garbage with a bad token is a 401.
	anon := &apiClient{t: t, sim: sim, http: sim.HTTPClient()}
	anon.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"foo": {"bar"}}).wantEmpty401(t)
}

package pveapi

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
)

func TestNewValidatesConfig(t *testing.T) {
	const pin = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
	const ticket = "PVE:root@pam:63DF62A5::c2lnbmF0dXJl"
	base := func(mutate func(*Config)) Config {
		cfg := Config{Endpoint: "https://pve.example:8006", APIToken: testToken}
		mutate(&cfg)
		return cfg
	}
	cases := []struct {
		name    string
		cfg     Config
		wantErr string // "" = valid
	}{
		{"token", base(func(*Config) {}), ""},
		{"password", base(func(c *Config) { c.APIToken, c.Username, c.Password = "", "root@pam", "pw" }), ""},
		{"ticket", base(func(c *Config) { c.APIToken, c.AuthTicket, c.CSRFPreventionToken = "", ticket, "63DF62A5:abc" }), ""},
		{"pin", base(func(c *Config) { c.TLSFingerprint = pin }), ""},
		{"pin lower case without colons", base(func(c *Config) {
			c.TLSFingerprint = strings.ToLower(strings.ReplaceAll(pin, ":", ""))
		}), ""},
		{"insecure", base(func(c *Config) { c.Insecure = true }), ""},
		{"no endpoint", base(func(c *Config) { c.Endpoint = "" }), "endpoint is required"},
		{"http endpoint", base(func(c *Config) { c.Endpoint = "http://pve:8006" }), "must use https://"},
		{"endpoint without host", base(func(c *Config) { c.Endpoint = "https:///api2/json" }), "has no host"},
		{"endpoint with query", base(func(c *Config) { c.Endpoint = "https://pve:8006/?x=1" }), "must not contain"},
		{"no auth", base(func(c *Config) { c.APIToken = "" }), "no authentication configured"},
		{"two modes", base(func(c *Config) { c.Username, c.Password = "root@pam", "pw" }), "more than one authentication mode"},
		{"username without password", base(func(c *Config) { c.APIToken, c.Username = "", "root@pam" }), "username and password must be set together"},
		{"ticket without csrf", base(func(c *Config) { c.APIToken, c.AuthTicket = "", ticket }), "auth_ticket and csrf_prevention_token must be set together"},
		{"username without realm", base(func(c *Config) { c.APIToken, c.Username, c.Password = "", "root", "pw" }), "must include the realm"},
		{"token without secret", base(func(c *Config) { c.APIToken = "root@pam!tf" }), "api_token must look like"},
		{"token without token id", base(func(c *Config) { c.APIToken = "root@pam=secret-value" }), "api_token must look like"},
		{"token with empty secret", base(func(c *Config) { c.APIToken = "root@pam!tf=" }), "api_token must look like"},
		{"malformed ticket", base(func(c *Config) { c.APIToken, c.AuthTicket, c.CSRFPreventionToken = "", "not-a-ticket", "x" }), "does not look like a Proxmox VE ticket"},
		{"short fingerprint", base(func(c *Config) { c.TLSFingerprint = "AB:CD" }), "not a SHA-256 fingerprint"},
		{"non-hex fingerprint", base(func(c *Config) { c.TLSFingerprint = strings.ReplaceAll(pin, "AB", "ZZ") }), "not a SHA-256 fingerprint"},
		{"insecure with pin", base(func(c *Config) { c.Insecure, c.TLSFingerprint = true, pin }), "insecure cannot be combined"},
		{"insecure with CA", base(func(c *Config) { c.Insecure, c.CACertPEM = true, "x" }), "insecure cannot be combined"},
		{"CA not PEM", base(func(c *Config) { c.CACertPEM = "hello" }), "ca_cert: no PEM certificate found"},
		{"CA PEM of a key", base(func(c *Config) {
			c.CACertPEM = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}), `is a "PRIVATE KEY"`},
		{"CA PEM broken", base(func(c *Config) {
			c.CACertPEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
		}), "ca_cert: PEM block 1"},
		{"TLS 1.1", base(func(c *Config) { c.MinTLSVersion = tls.VersionTLS11 }), "min_tls"},
		{"negative parallelism", base(func(c *Config) { c.MaxParallelRequests = -1 }), "max_parallel_requests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("err = %q, want it to contain %q", err, tc.wantErr)
			}
			for _, secret := range []string{"9f1c1d3e-5b7a-4c1e-8d2a-0123456789ab", "secret-value", "c2lnbmF0dXJl"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("the error leaks a secret: %q", err)
				}
			}
		})
	}
}

func TestParseMinTLS(t *testing.T) {
	for in, want := range map[string]uint16{"": tls.VersionTLS12, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13} {
		if got, err := ParseMinTLS(in); err != nil || got != want {
			t.Errorf("ParseMinTLS(%q) = %x, %v", in, got, err)
		}
	}
	for _, in := range []string{"1.1", "1.0", "tls1.2", "13"} {
		if _, err := ParseMinTLS(in); err == nil {
			t.Errorf("ParseMinTLS(%q) must fail", in)
		}
	}
}

func TestEndpointForms(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{"GET /version": versionOK})
	for _, endpoint := range []string{f.srv.URL, f.srv.URL + "/", f.srv.URL + "/api2/json", f.srv.URL + "/api2/json/"} {
		c := newTestClient(t, f, func(cfg *Config) { cfg.Endpoint = endpoint })
		if c.Endpoint() != f.srv.URL {
			t.Errorf("Endpoint(%q) = %q", endpoint, c.Endpoint())
		}
		if _, err := c.Version(t.Context()); err != nil {
			t.Errorf("endpoint %q: %v", endpoint, err)
		}
	}
	for _, r := range f.recorded() {
		if r.Path != "/version" {
			t.Errorf("request path = %q", r.Path)
		}
	}
	c, err := New(Config{Endpoint: "https://proxy.example/pve/", APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if c.base.String() != "https://proxy.example/pve/api2/json" {
		t.Errorf("a reverse-proxy prefix must be kept, base = %s", c.base)
	}
}

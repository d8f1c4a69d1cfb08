package pveapi

import (
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Config is everything New needs to reach one Proxmox VE endpoint. Exactly one
// authentication mode must be set: APIToken, Username+Password, or
// AuthTicket+CSRFPreventionToken. Error texts name the provider attributes
// (endpoint, api_token, …) because that is what users see.
type Config struct {
	// Endpoint is the API base, e.g. "https://host:8006". A trailing "/" or
	// "/api2/json" is accepted; a path prefix (reverse proxy) is kept.
	Endpoint string

	// APIToken is "user@realm!tokenid=secret".
	APIToken string
	// Username ("root@pam") and Password log in through POST /access/ticket.
	Username, Password string
	// AuthTicket and CSRFPreventionToken are a ticket issued elsewhere.
	AuthTicket, CSRFPreventionToken string

	// Insecure disables certificate verification entirely.
	Insecure bool
	// CACertPEM holds extra trust anchors (PEM), added to the system roots.
	CACertPEM string
	// TLSFingerprint pins the SHA-256 of the server's leaf certificate (DER),
	// written as the Proxmox UI shows it ("AB:CD:…"), case-insensitive, colons
	// optional. A pinned certificate needs no CA chain, which is how PVE's
	// self-signed certificates are used.
	TLSFingerprint string
	// MinTLSVersion is tls.VersionTLS12 or tls.VersionTLS13; 0 means 1.2.
	MinTLSVersion uint16

	// ConnectTimeout bounds the TCP connect and, separately, the TLS
	// handshake of each new connection; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// ResponseTimeout bounds the wait for response headers after a request
	// is sent, and then the reading of the body; 0 means
	// DefaultResponseTimeout. A request that runs out of either bound is not
	// retried.
	ResponseTimeout time.Duration

	// MaxParallelRequests caps in-flight HTTP requests; 0 means 8.
	MaxParallelRequests int
	// UserAgent is sent with every request; empty means a generic one.
	UserAgent string

	// Retry is the retry policy; its zero value gives sane defaults.
	Retry RetryPolicy
	// TaskPoll is how WaitTask polls; its zero value gives sane defaults.
	TaskPoll TaskPollPolicy

	// Now is the clock used for ticket lifetimes and task grace periods; nil
	// means time.Now. Tests set it to show ticket refresh without waiting.
	Now func() time.Time
}

// defaultMaxParallelRequests keeps a large apply from flooding pveproxy,
// whose worker pool is small.
const defaultMaxParallelRequests = 8

const defaultUserAgent = "terraform-provider-pve"

// ParseMinTLS turns the provider's min_tls text ("1.2" or "1.3"; empty means
// 1.2) into a crypto/tls version constant.
func ParseMinTLS(s string) (uint16, error) {
	switch strings.TrimSpace(s) {
	case "", "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("min_tls: %q is not supported, use \"1.2\" or \"1.3\"", s)
}

// authMode is the one authentication mode a Config selects.
type authMode int

const (
	authToken authMode = iota + 1
	authPassword
	authTicket
)

// tokenIDPattern is PVE's API token id: user@realm!name (pve-access-control).
var tokenIDPattern = regexp.MustCompile(`^[^\s:@!]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$`)

// userIDPattern is PVE's user id: name@realm.
var userIDPattern = regexp.MustCompile(`^[^\s:@!]+@[A-Za-z][A-Za-z0-9.\-_]+$`)

// validateAuth checks that exactly one mode is fully set and returns it. The
// texts never include a secret, only which attributes are wrong.
func (cfg Config) validateAuth() (authMode, error) {
	var modes []authMode
	if cfg.APIToken != "" {
		modes = append(modes, authToken)
	}
	if cfg.Username != "" || cfg.Password != "" {
		if cfg.Username == "" || cfg.Password == "" {
			return 0, errors.New("username and password must be set together")
		}
		modes = append(modes, authPassword)
	}
	if cfg.AuthTicket != "" || cfg.CSRFPreventionToken != "" {
		if cfg.AuthTicket == "" || cfg.CSRFPreventionToken == "" {
			return 0, errors.New("auth_ticket and csrf_prevention_token must be set together")
		}
		modes = append(modes, authTicket)
	}
	switch len(modes) {
	case 0:
		return 0, errors.New("no authentication configured: set api_token, or username and password, or auth_ticket and csrf_prevention_token")
	case 1:
	default:
		return 0, errors.New("more than one authentication mode configured: set only one of api_token, username/password, auth_ticket/csrf_prevention_token")
	}
	switch modes[0] {
	case authToken:
		id, secret, ok := splitAPIToken(cfg.APIToken)
		if !ok || !tokenIDPattern.MatchString(id) || secret == "" {
			return 0, errors.New(`api_token must look like "user@realm!tokenid=secret"`)
		}
	case authPassword:
		if !userIDPattern.MatchString(cfg.Username) {
			return 0, fmt.Errorf("username %q must include the realm, e.g. \"root@pam\"", cfg.Username)
		}
	case authTicket:
		if _, _, ok := parseTicket(cfg.AuthTicket); !ok {
			return 0, errors.New(`auth_ticket does not look like a Proxmox VE ticket ("PVE:<user>@<realm>:<time>::<signature>")`)
		}
	}
	return modes[0], nil
}

// splitAPIToken separates "user@realm!id=secret" at the last "=", the way
// the server does.
func splitAPIToken(token string) (id, secret string, ok bool) {
	i := strings.LastIndexByte(token, '=')
	if i < 0 {
		return "", "", false
	}
	return token[:i], token[i+1:], true
}

// parseEndpoint accepts "https://host:8006", with or without a trailing "/"
// or "/api2/json", and returns the base URL every API path is appended to.
func parseEndpoint(endpoint string) (*url.URL, error) {
	if strings.TrimSpace(endpoint) == "" {
		return nil, errors.New("endpoint is required, e.g. \"https://pve.example.com:8006\"")
	}
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil {
		return nil, fmt.Errorf("endpoint %q is not a URL: %w", endpoint, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q must use https:// (the Proxmox VE API is only served over TLS)", endpoint)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("endpoint %q has no host", endpoint)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q must not contain credentials, a query or a fragment", u.Redacted())
	}
	prefix := strings.TrimRight(u.Path, "/")
	prefix = strings.TrimSuffix(prefix, "/api2/json")
	prefix = strings.TrimRight(prefix, "/")
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: prefix + "/api2/json"}, nil
}

// parseFingerprint reads a SHA-256 fingerprint as the PVE UI prints it.
func parseFingerprint(s string) ([]byte, error) {
	clean := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	sum, err := hex.DecodeString(clean)
	if err != nil || len(sum) != 32 {
		return nil, fmt.Errorf("tls_fingerprint %q is not a SHA-256 fingerprint: expected 32 hex bytes such as \"AB:CD:…\" (64 hex digits, colons optional)", s)
	}
	return sum, nil
}

// formatFingerprint prints a SHA-256 sum the way the PVE UI shows it.
func formatFingerprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

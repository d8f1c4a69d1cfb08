package provider

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// apiSettings are the provider's API settings, each resolved from the
// configuration or the environment.
type apiSettings struct {
	endpoint, token, username, password, ticket, csrf setting
	caCert, fingerprint, minTLS                       setting
	insecure                                          bool
	parallel                                          int64
	connectTimeout, responseTimeout                   time.Duration
}

// any says whether anything at all points at a Proxmox VE API.
func (s apiSettings) any() bool {
	return s.endpoint.set() || s.token.set() || s.username.set() || s.password.set() || s.ticket.set() || s.csrf.set() ||
		s.fingerprint.set() || s.caCert.set()
}

// resolveAPISettings reads every API setting; malformed environment values
// are reported to diags.
func resolveAPISettings(cfg providerModel, env envLookup, diags *diag.Diagnostics) apiSettings {
	// Credentials: when the configuration names any of them, the
	// environment's credentials are not consulted at all, so a stray
	// variable can never combine with the configured mode.
	credEnv := env
	if known(cfg.APIToken) || known(cfg.Username) || known(cfg.Password) || known(cfg.AuthTicket) || known(cfg.CSRFPreventionToken) {
		credEnv = func(string) (string, bool) { return "", false }
	}
	// PROXMOX_VE_* fallbacks exist only where the bpg/proxmox provider has
	// a variable for the same setting, so its users' environment carries
	// over; there is none for the CA, the pin or the request settings.
	return apiSettings{
		endpoint: resolveString(cfg.Endpoint, path.Root("endpoint"), env, "PVE_ENDPOINT", "PROXMOX_VE_ENDPOINT"),
		token:    resolveString(cfg.APIToken, path.Root("api_token"), credEnv, "PVE_API_TOKEN", "PROXMOX_VE_API_TOKEN"),
		username: resolveString(cfg.Username, path.Root("username"), credEnv, "PVE_USERNAME", "PROXMOX_VE_USERNAME"),
		password: resolveString(cfg.Password, path.Root("password"), credEnv, "PVE_PASSWORD", "PROXMOX_VE_PASSWORD"),
		ticket:   resolveString(cfg.AuthTicket, path.Root("auth_ticket"), credEnv, "PVE_AUTH_TICKET", "PROXMOX_VE_AUTH_TICKET"),
		csrf: resolveString(cfg.CSRFPreventionToken, path.Root("csrf_prevention_token"), credEnv,
			"PVE_CSRF_PREVENTION_TOKEN", "PROXMOX_VE_CSRF_PREVENTION_TOKEN"),
		insecure:    resolveBool(cfg.Insecure, path.Root("insecure"), env, diags, "PVE_INSECURE", "PROXMOX_VE_INSECURE"),
		caCert:      resolveString(cfg.CACert, path.Root("ca_cert"), env, "PVE_CA_CERT"),
		fingerprint: resolveString(cfg.TLSFingerprint, path.Root("tls_fingerprint"), env, "PVE_TLS_FINGERPRINT"),
		minTLS:      resolveString(cfg.MinTLS, path.Root("min_tls"), env, "PVE_MIN_TLS", "PROXMOX_VE_MIN_TLS"),
		parallel:    resolveInt(cfg.MaxParallelRequests, path.Root("max_parallel_requests"), env, diags, "PVE_MAX_PARALLEL_REQUESTS"),
		connectTimeout: resolveDuration(cfg.ConnectTimeout, path.Root("connect_timeout"), env, diags,
			"PVE_CONNECT_TIMEOUT"),
		responseTimeout: resolveDuration(cfg.ResponseTimeout, path.Root("response_timeout"), env, diags,
			"PVE_RESPONSE_TIMEOUT"),
	}
}

// resolveAPIConfig merges configuration and environment into the API client
// settings. It returns nil without error when nothing at all is configured:
// resources that need the API then say so at plan time, while state-only
// resources and the discovery data source keep working.
func resolveAPIConfig(cfg providerModel, version string, env envLookup) (*pveapi.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := resolveAPISettings(cfg, env, &diags)
	if !s.any() {
		return nil, diags
	}
	diags.Append(checkEndpoint(s.endpoint)...)
	diags.Append(checkAuthModes(s.token, s.username, s.password, s.ticket, s.csrf)...)
	if s.insecure && (s.caCert.set() || s.fingerprint.set()) {
		diags.AddAttributeError(path.Root("insecure"), "Conflicting TLS Settings",
			"insecure = true turns certificate verification off, while ca_cert or tls_fingerprint asks for it to be done a particular way. Remove insecure, or remove ca_cert and tls_fingerprint.")
	}
	caPEM := readCACert(s.caCert, &diags)
	minVersion := parseMinTLS(s.minTLS, &diags)
	if diags.HasError() {
		return nil, diags
	}
	return &pveapi.Config{
		Endpoint:            s.endpoint.value,
		APIToken:            s.token.value,
		Username:            s.username.value,
		Password:            s.password.value,
		AuthTicket:          s.ticket.value,
		CSRFPreventionToken: s.csrf.value,
		Insecure:            s.insecure,
		CACertPEM:           caPEM,
		TLSFingerprint:      s.fingerprint.value,
		MinTLSVersion:       minVersion,
		MaxParallelRequests: int(s.parallel),
		ConnectTimeout:      s.connectTimeout,
		ResponseTimeout:     s.responseTimeout,
		UserAgent:           "terraform-provider-pve/" + version,
	}, diags
}

// checkEndpoint insists on an https URL with a host.
func checkEndpoint(endpoint setting) diag.Diagnostics {
	var diags diag.Diagnostics
	if !endpoint.set() {
		diags.AddAttributeError(path.Root("endpoint"), "Missing Proxmox VE API Endpoint",
			"Credentials for Proxmox VE are configured but the API endpoint is not. Set endpoint in the provider block "+
				"(e.g. \"https://pve.example.com:8006\") or the PVE_ENDPOINT environment variable.")
	} else if u, err := url.Parse(endpoint.value); err != nil || u.Host == "" {
		addSettingError(&diags, endpoint, "Invalid Proxmox VE API Endpoint",
			fmt.Sprintf("The endpoint from %s is not a URL with a host name. Write it like \"https://pve.example.com:8006\".", endpoint.where()))
	} else if u.Scheme != "https" {
		addSettingError(&diags, endpoint, "Insecure Proxmox VE API Endpoint",
			fmt.Sprintf("The endpoint from %s uses %q; the Proxmox VE API is served over https only and credentials must never travel in clear text. Use an https:// URL.", endpoint.where(), u.Scheme))
	}
	return diags
}

// readCACert is the PEM text of ca_cert, which is either PEM text or the
// path of a PEM file.
func readCACert(caCert setting, diags *diag.Diagnostics) string {
	if !caCert.set() || strings.Contains(caCert.value, "-----BEGIN") {
		return caCert.value
	}
	b, err := os.ReadFile(filepath.Clean(caCert.value))
	if err != nil {
		addSettingError(diags, caCert, "Unreadable CA Certificate",
			fmt.Sprintf("The value from %s is neither PEM text nor a readable file: %v.", caCert.where(), err))
	}
	return string(b)
}

// parseMinTLS is min_tls as a crypto/tls version; 0 when unset.
func parseMinTLS(minTLS setting, diags *diag.Diagnostics) uint16 {
	if !minTLS.set() {
		return 0
	}
	v, err := pveapi.ParseMinTLS(minTLS.value)
	if err != nil {
		addSettingError(diags, minTLS, "Invalid Minimum TLS Version",
			fmt.Sprintf("The value %q from %s is not a TLS version this provider supports; use \"1.2\" or \"1.3\".", minTLS.value, minTLS.where()))
	}
	return v
}

// checkAuthModes insists on exactly one complete authentication mode.
func checkAuthModes(token, username, password, ticket, csrf setting) diag.Diagnostics {
	var diags diag.Diagnostics
	var modes []string
	if token.set() {
		modes = append(modes, "an API token (from "+token.where()+")")
	}
	if username.set() || password.set() {
		modes = append(modes, "username and password (from "+firstSet(username, password).where()+")")
	}
	if ticket.set() || csrf.set() {
		modes = append(modes, "a pre-issued ticket (from "+firstSet(ticket, csrf).where()+")")
	}
	switch len(modes) {
	case 0:
		diags.AddError("Missing Proxmox VE Credentials",
			"The provider has an endpoint but no credentials. Configure exactly one of: api_token "+
				"(PVE_API_TOKEN), username and password (PVE_USERNAME, PVE_PASSWORD), or auth_ticket and "+
				"csrf_prevention_token (PVE_AUTH_TICKET, PVE_CSRF_PREVENTION_TOKEN).")
		return diags
	case 1:
	default:
		diags.AddError("Conflicting Proxmox VE Credentials",
			"More than one authentication mode is configured: "+strings.Join(modes, "; ")+
				". Keep exactly one of api_token, username/password or auth_ticket/csrf_prevention_token.")
		return diags
	}
	if username.set() != password.set() {
		missing, have := password, username
		if !username.set() {
			missing, have = username, password
		}
		addSettingError(&diags, missing, "Incomplete Proxmox VE Credentials",
			fmt.Sprintf("%s is set but %s is not; ticket login needs both the user (e.g. root@pam) and its password.", have.where(), missing.attr))
	}
	if ticket.set() != csrf.set() {
		missing, have := csrf, ticket
		if !ticket.set() {
			missing, have = ticket, csrf
		}
		addSettingError(&diags, missing, "Incomplete Proxmox VE Credentials",
			fmt.Sprintf("%s is set but %s is not; a pre-issued ticket is only usable together with the CSRF prevention token issued with it.", have.where(), missing.attr))
	}
	return diags
}

// addInsecureWarning says, on every run, that the API's certificate is not
// checked, as insecure_ignore_host_key does for SSH.
func addInsecureWarning(diags *diag.Diagnostics, fromConfig bool) {
	const summary = "TLS Certificate Verification Disabled"
	detail := "insecure = true: the provider does not check the certificate of the Proxmox VE API, so anyone able to " +
		"intercept the connection could read the credentials and impersonate the server. Trust the node's CA with " +
		"ca_cert (/etc/pve/pve-root-ca.pem on a node) or pin its certificate with tls_fingerprint instead."
	if fromConfig {
		diags.AddAttributeWarning(path.Root("insecure"), summary, detail)
		return
	}
	diags.AddWarning(summary, strings.Replace(detail, "insecure = true", "PVE_INSECURE (or PROXMOX_VE_INSECURE) is true", 1))
}

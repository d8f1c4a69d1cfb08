package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

// envLookup reads one environment variable; tests substitute a map.
type envLookup func(name string) (string, bool)

func osEnv(name string) (string, bool) { return os.LookupEnv(name) }

// setting is one resolved provider setting and where it came from, so
// diagnostics can point at the attribute or the variable.
type setting struct {
	value  string
	source string // "" when unset
	attr   path.Path
}

func (s setting) set() bool { return s.value != "" }

// fromConfig says whether the value was written in the provider block.
func (s setting) fromConfig() bool { return s.source == "configuration" }

// where names the origin of a setting for diagnostics.
func (s setting) where() string {
	if s.fromConfig() {
		return s.attr.String()
	}
	return s.source
}

// resolveString takes the configured value, else the first environment
// variable that is set and not empty: explicit configuration always wins.
func resolveString(v types.String, p path.Path, env envLookup, names ...string) setting {
	if isSet(v) {
		return setting{value: v.ValueString(), source: "configuration", attr: p}
	}
	for _, n := range names {
		if e, ok := env(n); ok && e != "" {
			return setting{value: e, source: "environment variable " + n, attr: p}
		}
	}
	return setting{attr: p}
}

// isSet reports whether a configured value is present and known.
func isSet(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

// unknownAttributes lists the provider attributes whose value is not known
// yet during plan; the client cannot be built from them.
func unknownAttributes(ctx context.Context, cfg providerModel) map[string]attr.Value {
	out := map[string]attr.Value{}
	for name, v := range map[string]attr.Value{
		"endpoint": cfg.Endpoint, "api_token": cfg.APIToken, "username": cfg.Username, "password": cfg.Password,
		"auth_ticket": cfg.AuthTicket, "csrf_prevention_token": cfg.CSRFPreventionToken, "insecure": cfg.Insecure,
		"ca_cert": cfg.CACert, "tls_fingerprint": cfg.TLSFingerprint, "min_tls": cfg.MinTLS,
		"max_parallel_requests": cfg.MaxParallelRequests, "connect_timeout": cfg.ConnectTimeout, "response_timeout": cfg.ResponseTimeout,
	} {
		if v.IsUnknown() {
			out[name] = v
		}
	}
	if cfg.DefaultTimeouts.IsUnknown() {
		out["default_timeouts"] = cfg.DefaultTimeouts
	} else if t := decodeTimeouts(ctx, cfg.DefaultTimeouts); t != nil {
		for name, v := range map[string]attr.Value{"create": t.Create, "read": t.Read, "update": t.Update, "delete": t.Delete} {
			if v.IsUnknown() {
				out["default_timeouts."+name] = v
			}
		}
	}
	if cfg.SSH.IsUnknown() {
		out["ssh"] = cfg.SSH
	} else if s := decodeSSH(ctx, cfg.SSH); s != nil {
		for name, v := range map[string]attr.Value{
			"username": s.Username, "password": s.Password, "private_key": s.PrivateKey, "agent": s.Agent,
			"agent_socket": s.AgentSocket, "port": s.Port, "known_hosts": s.KnownHosts, "host_key": s.HostKey,
			"insecure_ignore_host_key": s.InsecureIgnoreHostKey, "node": s.Nodes,
		} {
			if v.IsUnknown() {
				out["ssh."+name] = v
			}
		}
		for i, n := range decodeSSHNodes(ctx, s.Nodes) {
			for name, v := range map[string]attr.Value{"name": n.Name, "address": n.Address, "port": n.Port} {
				if v.IsUnknown() {
					out[fmt.Sprintf("ssh.node[%d].%s", i, name)] = v
				}
			}
		}
	}
	return out
}

// newProviderData turns the provider block plus the environment into the
// shared client and settings, or into diagnostics that say what to fix.
func newProviderData(ctx context.Context, cfg providerModel, version string, env envLookup) (*providerData, diag.Diagnostics) {
	var diags diag.Diagnostics
	for name := range unknownAttributes(ctx, cfg) {
		diags.AddError("Unknown Provider Setting",
			fmt.Sprintf("The provider setting %s is not known during plan, so the provider cannot connect to Proxmox VE. "+
				"Set it to a value known before apply (a literal, a variable or an environment variable), "+
				"or apply the resources it depends on first with -target.", name))
	}
	if diags.HasError() {
		return nil, diags
	}

	data := &providerData{Timeouts: builtinTimeouts}
	diags.Append(data.resolveTimeouts(decodeTimeouts(ctx, cfg.DefaultTimeouts))...)

	apiCfg, apiDiags := resolveAPIConfig(cfg, version, env)
	diags.Append(apiDiags...)
	sshCfg, sshDiags := resolveSSHConfig(decodeSSH(ctx, cfg.SSH), decodeSSHNodes(ctx, sshNodesOf(ctx, cfg.SSH)), env)
	diags.Append(sshDiags...)
	if diags.HasError() {
		return nil, diags
	}
	data.SSH = sshCfg
	data.secrets = secretsOf(apiCfg, sshCfg)
	ctx = data.logContext(ctx)

	if apiCfg != nil {
		if apiCfg.Insecure {
			addInsecureWarning(&diags, isSet(cfg.Insecure))
		}
		client, err := pveapi.New(*apiCfg)
		if err != nil {
			diags.AddError("Invalid Proxmox VE API Settings",
				"The provider could not build its Proxmox VE API client from the settings given: "+err.Error())
			return nil, diags
		}
		data.API = client
		tflog.Debug(ctx, "configured Proxmox VE API client", map[string]any{
			"endpoint": apiCfg.Endpoint, "identity": client.Identity(), "api_token": client.UsesAPIToken(),
		})
	}
	if sshCfg != nil {
		if sshCfg.InsecureIgnoreHostKey {
			diags.AddAttributeWarning(path.Root("ssh").AtName("insecure_ignore_host_key"), "SSH Host Key Verification Disabled",
				"insecure_ignore_host_key = true: the provider will not verify the identity of the nodes it connects to for provisioning, "+
					"so anyone able to intercept the connection could impersonate a node. Pin the keys with host_key or use known_hosts instead.")
		}
		tflog.Debug(ctx, "configured SSH access for provisioning", map[string]any{
			"username": sshCfg.Username, "nodes": len(sshCfg.Nodes), "port": sshCfg.Port,
		})
	}
	return data, diags
}

func (d *providerData) resolveTimeouts(t *timeoutsModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if t == nil {
		return diags
	}
	for _, f := range []struct {
		name string
		v    types.String
		dst  *time.Duration
	}{{"create", t.Create, &d.Timeouts.Create}, {"read", t.Read, &d.Timeouts.Read}, {"update", t.Update, &d.Timeouts.Update}, {"delete", t.Delete, &d.Timeouts.Delete}} {
		if !isSet(f.v) {
			continue
		}
		dur, err := time.ParseDuration(f.v.ValueString())
		if err != nil || dur <= 0 {
			diags.AddAttributeError(path.Root("default_timeouts").AtName(f.name), "Invalid Timeout",
				fmt.Sprintf("%q is not a positive duration; write it like \"30m\" or \"90s\".", f.v.ValueString()))
			continue
		}
		*f.dst = dur
	}
	return diags
}

// resolveAPIConfig merges configuration and environment into the API client
// settings. It returns nil without error when nothing at all is configured:
// resources that need the API then say so at plan time, while state-only
// resources and the discovery data source keep working.
func resolveAPIConfig(cfg providerModel, version string, env envLookup) (*pveapi.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	endpoint := resolveString(cfg.Endpoint, path.Root("endpoint"), env, "PVE_ENDPOINT", "PROXMOX_VE_ENDPOINT")

	// Credentials: when the configuration names any of them, the
	// environment's credentials are not consulted at all, so a stray
	// variable can never combine with the configured mode.
	credEnv := env
	if isSet(cfg.APIToken) || isSet(cfg.Username) || isSet(cfg.Password) || isSet(cfg.AuthTicket) || isSet(cfg.CSRFPreventionToken) {
		credEnv = func(string) (string, bool) { return "", false }
	}
	token := resolveString(cfg.APIToken, path.Root("api_token"), credEnv, "PVE_API_TOKEN", "PROXMOX_VE_API_TOKEN")
	username := resolveString(cfg.Username, path.Root("username"), credEnv, "PVE_USERNAME", "PROXMOX_VE_USERNAME")
	password := resolveString(cfg.Password, path.Root("password"), credEnv, "PVE_PASSWORD", "PROXMOX_VE_PASSWORD")
	ticket := resolveString(cfg.AuthTicket, path.Root("auth_ticket"), credEnv, "PVE_AUTH_TICKET", "PROXMOX_VE_AUTH_TICKET")
	csrf := resolveString(cfg.CSRFPreventionToken, path.Root("csrf_prevention_token"), credEnv, "PVE_CSRF_PREVENTION_TOKEN", "PROXMOX_VE_CSRF_PREVENTION_TOKEN")

	insecure := resolveBool(cfg.Insecure, path.Root("insecure"), env, &diags, "PVE_INSECURE", "PROXMOX_VE_INSECURE")
	// PROXMOX_VE_* fallbacks exist only where the bpg/proxmox provider has
	// a variable for the same setting, so its users' environment carries
	// over; there is none for the CA, the pin or the request settings.
	caCert := resolveString(cfg.CACert, path.Root("ca_cert"), env, "PVE_CA_CERT")
	fingerprint := resolveString(cfg.TLSFingerprint, path.Root("tls_fingerprint"), env, "PVE_TLS_FINGERPRINT")
	minTLS := resolveString(cfg.MinTLS, path.Root("min_tls"), env, "PVE_MIN_TLS", "PROXMOX_VE_MIN_TLS")
	parallel := resolveInt(cfg.MaxParallelRequests, path.Root("max_parallel_requests"), env, &diags, "PVE_MAX_PARALLEL_REQUESTS")
	connectTimeout := resolveDuration(cfg.ConnectTimeout, path.Root("connect_timeout"), env, &diags, "PVE_CONNECT_TIMEOUT")
	responseTimeout := resolveDuration(cfg.ResponseTimeout, path.Root("response_timeout"), env, &diags, "PVE_RESPONSE_TIMEOUT")

	anyAPISetting := endpoint.set() || token.set() || username.set() || password.set() || ticket.set() || csrf.set() ||
		fingerprint.set() || caCert.set()
	if !anyAPISetting {
		return nil, diags
	}

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

	diags.Append(checkAuthModes(token, username, password, ticket, csrf)...)

	if insecure && (caCert.set() || fingerprint.set()) {
		diags.AddAttributeError(path.Root("insecure"), "Conflicting TLS Settings",
			"insecure = true turns certificate verification off, while ca_cert or tls_fingerprint asks for it to be done a particular way. Remove insecure, or remove ca_cert and tls_fingerprint.")
	}

	caPEM := caCert.value
	if caCert.set() && !strings.Contains(caPEM, "-----BEGIN") {
		b, err := os.ReadFile(filepath.Clean(caPEM))
		if err != nil {
			addSettingError(&diags, caCert, "Unreadable CA Certificate",
				fmt.Sprintf("The value from %s is neither PEM text nor a readable file: %v.", caCert.where(), err))
		}
		caPEM = string(b)
	}

	var minVersion uint16
	if minTLS.set() {
		v, err := pveapi.ParseMinTLS(minTLS.value)
		if err != nil {
			addSettingError(&diags, minTLS, "Invalid Minimum TLS Version",
				fmt.Sprintf("The value %q from %s is not a TLS version this provider supports; use \"1.2\" or \"1.3\".", minTLS.value, minTLS.where()))
		}
		minVersion = v
	}
	if diags.HasError() {
		return nil, diags
	}
	return &pveapi.Config{
		Endpoint:            endpoint.value,
		APIToken:            token.value,
		Username:            username.value,
		Password:            password.value,
		AuthTicket:          ticket.value,
		CSRFPreventionToken: csrf.value,
		Insecure:            insecure,
		CACertPEM:           caPEM,
		TLSFingerprint:      fingerprint.value,
		MinTLSVersion:       minVersion,
		MaxParallelRequests: int(parallel),
		ConnectTimeout:      connectTimeout,
		ResponseTimeout:     responseTimeout,
		UserAgent:           "terraform-provider-pve/" + version,
	}, diags
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

func firstSet(a, b setting) setting {
	if a.set() {
		return a
	}
	return b
}

// addSettingError attaches the error to the attribute when the value came
// from the configuration, and reports it generally when it came from the
// environment.
func addSettingError(diags *diag.Diagnostics, s setting, summary, detail string) {
	if s.fromConfig() {
		diags.AddAttributeError(s.attr, summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

func resolveBool(v types.Bool, p path.Path, env envLookup, diags *diag.Diagnostics, names ...string) bool {
	if isSet(v) {
		return v.ValueBool()
	}
	for _, n := range names {
		e, ok := env(n)
		if !ok || e == "" {
			continue
		}
		b, valid := pveformat.ParseBool(e)
		if !valid {
			diags.AddError("Invalid Environment Variable",
				fmt.Sprintf("%s=%q is not a boolean; use true or false (it sets %s).", n, e, p))
		}
		return b
	}
	return false
}

func resolveInt(v types.Int64, p path.Path, env envLookup, diags *diag.Diagnostics, names ...string) int64 {
	if isSet(v) {
		return v.ValueInt64()
	}
	for _, n := range names {
		e, ok := env(n)
		if !ok || e == "" {
			continue
		}
		i, err := strconv.ParseInt(e, 10, 64)
		if err != nil || i < 1 {
			diags.AddError("Invalid Environment Variable",
				fmt.Sprintf("%s=%q is not a positive whole number (it sets %s).", n, e, p))
		}
		return i
	}
	return 0
}

// resolveDuration reads a positive Go duration; 0 when unset. A configured
// value was already checked by the durationString validator.
func resolveDuration(v types.String, p path.Path, env envLookup, diags *diag.Diagnostics, names ...string) time.Duration {
	s := resolveString(v, p, env, names...)
	if !s.set() {
		return 0
	}
	d, err := time.ParseDuration(s.value)
	if err != nil || d <= 0 {
		addSettingError(diags, s, "Invalid Duration",
			fmt.Sprintf("The value %q from %s is not a positive duration; write it like \"30s\" or \"2m\".", s.value, s.where()))
		return 0
	}
	return d
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

// resolveSSHConfig builds the SSH settings from the ssh block and the
// PVE_SSH_* variables; nil when neither says anything.
func resolveSSHConfig(block *sshModel, nodes []sshNodeModel, env envLookup) (*sshexec.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	b := sshModel{}
	if block != nil {
		b = *block
	}
	root := path.Root("ssh")
	username := resolveString(b.Username, root.AtName("username"), env, "PVE_SSH_USERNAME", "PROXMOX_VE_SSH_USERNAME")
	password := resolveString(b.Password, root.AtName("password"), env, "PVE_SSH_PASSWORD", "PROXMOX_VE_SSH_PASSWORD")
	key := resolveString(b.PrivateKey, root.AtName("private_key"), env, "PVE_SSH_PRIVATE_KEY", "PROXMOX_VE_SSH_PRIVATE_KEY")
	agentSocket := resolveString(b.AgentSocket, root.AtName("agent_socket"), env, "PVE_SSH_AGENT_SOCKET", "PROXMOX_VE_SSH_AUTH_SOCK")
	knownHosts := resolveString(b.KnownHosts, root.AtName("known_hosts"), env, "PVE_SSH_KNOWN_HOSTS")
	hostKey := resolveString(b.HostKey, root.AtName("host_key"), env, "PVE_SSH_HOST_KEY")
	agent := resolveBool(b.Agent, root.AtName("agent"), env, &diags, "PVE_SSH_AGENT", "PROXMOX_VE_SSH_AGENT")
	insecure := resolveBool(b.InsecureIgnoreHostKey, root.AtName("insecure_ignore_host_key"), env, &diags, "PVE_SSH_INSECURE_IGNORE_HOST_KEY")
	port := resolveInt(b.Port, root.AtName("port"), env, &diags, "PVE_SSH_PORT")

	if block == nil && !username.set() && !password.set() && !key.set() && !agent && !hostKey.set() && !knownHosts.set() && port == 0 && !insecure {
		return nil, diags
	}

	cfg := &sshexec.Config{
		Username:              username.value,
		Password:              password.value,
		PrivateKey:            key.value,
		UseAgent:              agent,
		AgentSocket:           agentSocket.value,
		Port:                  int(port),
		KnownHostsFile:        knownHosts.value,
		InsecureIgnoreHostKey: insecure,
		Nodes:                 map[string]sshexec.NodeAddress{},
	}
	if cfg.Username == "" {
		cfg.Username = "root"
	}
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	if !password.set() && !key.set() && !agent {
		diags.AddAttributeError(root, "Missing SSH Credentials",
			"The ssh block needs a way to log in to the nodes: password, private_key or agent = true "+
				"(or PVE_SSH_PASSWORD, PVE_SSH_PRIVATE_KEY, PVE_SSH_AGENT).")
	}
	if key.set() {
		if _, err := ssh.ParseRawPrivateKey([]byte(key.value)); err != nil {
			addSettingError(&diags, key, "Invalid SSH Private Key",
				fmt.Sprintf("The private key from %s cannot be used: it must be an unencrypted PEM or OpenSSH private key (%s).", key.where(), sshKeyProblem(err)))
		}
	}
	for _, line := range strings.Split(hostKey.value, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
			addSettingError(&diags, hostKey, "Invalid SSH Host Key",
				fmt.Sprintf("The host key %q from %s is not in authorized_keys form (\"ssh-ed25519 AAAA…\").", line, hostKey.where()))
			continue
		}
		cfg.HostKeys = append(cfg.HostKeys, line)
	}
	if !insecure && len(cfg.HostKeys) == 0 && cfg.KnownHostsFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfg.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
		}
	}
	for i, n := range nodes {
		name := n.Name.ValueString()
		if _, dup := cfg.Nodes[name]; dup {
			diags.AddAttributeError(root.AtName("node").AtListIndex(i).AtName("name"), "Duplicate SSH Node",
				fmt.Sprintf("Node %q is listed more than once in the ssh block; keep one entry per node.", name))
			continue
		}
		cfg.Nodes[name] = sshexec.NodeAddress{Address: n.Address.ValueString(), Port: int(n.Port.ValueInt64())}
	}
	return cfg, diags
}

// sshKeyProblem describes a key parse failure without echoing key material.
func sshKeyProblem(err error) string {
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return "it is encrypted; decrypt it or use agent = true"
	}
	return "it could not be parsed"
}

// secretsOf lists every secret value so logging can mask it.
func secretsOf(api *pveapi.Config, s *sshexec.Config) []string {
	var out []string
	add := func(v string) {
		if v != "" {
			out = append(out, v)
		}
	}
	if api != nil {
		add(api.APIToken)
		if _, secret, ok := strings.Cut(api.APIToken, "="); ok {
			add(secret)
		}
		add(api.Password)
		add(api.AuthTicket)
		add(api.CSRFPreventionToken)
	}
	if s != nil {
		add(s.Password)
		add(s.PrivateKey)
	}
	return out
}

// decodeTimeouts reads the default_timeouts object (nil when not set).
func decodeTimeouts(ctx context.Context, obj types.Object) *timeoutsModel {
	if !known(obj) {
		return nil
	}
	var t timeoutsModel
	if d := obj.As(ctx, &t, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true}); d.HasError() {
		return nil
	}
	return &t
}

// decodeSSH reads the ssh block (nil when absent).
func decodeSSH(ctx context.Context, obj types.Object) *sshModel {
	if !known(obj) {
		return nil
	}
	var s sshModel
	if d := obj.As(ctx, &s, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true}); d.HasError() {
		return nil
	}
	return &s
}

func sshNodesOf(ctx context.Context, obj types.Object) types.List {
	if s := decodeSSH(ctx, obj); s != nil {
		return s.Nodes
	}
	return types.ListNull(types.ObjectType{})
}

// decodeSSHNodes reads the ssh block's node entries.
func decodeSSHNodes(ctx context.Context, list types.List) []sshNodeModel {
	if !known(list) {
		return nil
	}
	var nodes []sshNodeModel
	if d := list.ElementsAs(ctx, &nodes, false); d.HasError() {
		return nil
	}
	return nodes
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

// sshSettings are the ssh block's settings, each resolved from the block or
// the environment.
type sshSettings struct {
	username, password, key, agentSocket, knownHosts, hostKey setting
	agent, insecure                                           bool
	port                                                      int64
}

// resolveSSHSettings reads every SSH setting; malformed environment values
// are reported to diags.
func resolveSSHSettings(b sshModel, env envLookup, diags *diag.Diagnostics) sshSettings {
	root := path.Root("ssh")
	return sshSettings{
		username:    resolveString(b.Username, root.AtName("username"), env, "PVE_SSH_USERNAME", "PROXMOX_VE_SSH_USERNAME"),
		password:    resolveString(b.Password, root.AtName("password"), env, "PVE_SSH_PASSWORD", "PROXMOX_VE_SSH_PASSWORD"),
		key:         resolveString(b.PrivateKey, root.AtName("private_key"), env, "PVE_SSH_PRIVATE_KEY", "PROXMOX_VE_SSH_PRIVATE_KEY"),
		agentSocket: resolveString(b.AgentSocket, root.AtName("agent_socket"), env, "PVE_SSH_AGENT_SOCKET", "PROXMOX_VE_SSH_AUTH_SOCK"),
		knownHosts:  resolveString(b.KnownHosts, root.AtName("known_hosts"), env, "PVE_SSH_KNOWN_HOSTS"),
		hostKey:     resolveString(b.HostKey, root.AtName("host_key"), env, "PVE_SSH_HOST_KEY"),
		agent:       resolveBool(b.Agent, root.AtName("agent"), env, diags, "PVE_SSH_AGENT", "PROXMOX_VE_SSH_AGENT"),
		insecure: resolveBool(b.InsecureIgnoreHostKey, root.AtName("insecure_ignore_host_key"), env, diags,
			"PVE_SSH_INSECURE_IGNORE_HOST_KEY"),
		port: resolveInt(b.Port, root.AtName("port"), env, diags, "PVE_SSH_PORT"),
	}
}

// any says whether the environment asks for SSH access without a block.
func (s sshSettings) any() bool {
	return s.username.set() || s.password.set() || s.key.set() || s.agent || s.hostKey.set() || s.knownHosts.set() ||
		s.port != 0 || s.insecure
}

// resolveSSHConfig builds the SSH settings from the ssh block and the
// PVE_SSH_* variables; nil when neither says anything.
func resolveSSHConfig(block *sshModel, nodes []sshNodeModel, env envLookup) (*sshexec.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	b := sshModel{}
	if block != nil {
		b = *block
	}
	s := resolveSSHSettings(b, env, &diags)
	if block == nil && !s.any() {
		return nil, diags
	}
	cfg := &sshexec.Config{
		Username:              s.username.value,
		Password:              s.password.value,
		PrivateKey:            s.key.value,
		UseAgent:              s.agent,
		AgentSocket:           s.agentSocket.value,
		Port:                  int(s.port),
		KnownHostsFile:        s.knownHosts.value,
		InsecureIgnoreHostKey: s.insecure,
		HostKeys:              parseHostKeys(s.hostKey, &diags),
		Nodes:                 sshNodeAddresses(nodes, &diags),
	}
	if cfg.Username == "" {
		cfg.Username = "root"
	}
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	diags.Append(checkSSHCredentials(s)...)
	if !s.insecure && len(cfg.HostKeys) == 0 && cfg.KnownHostsFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfg.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
		}
	}
	return cfg, diags
}

// checkSSHCredentials insists on a way to log in, and on a usable key.
func checkSSHCredentials(s sshSettings) diag.Diagnostics {
	var diags diag.Diagnostics
	if !s.password.set() && !s.key.set() && !s.agent {
		diags.AddAttributeError(path.Root("ssh"), "Missing SSH Credentials",
			"The ssh block needs a way to log in to the nodes: password, private_key or agent = true "+
				"(or PVE_SSH_PASSWORD, PVE_SSH_PRIVATE_KEY, PVE_SSH_AGENT).")
	}
	if s.key.set() {
		if _, err := ssh.ParseRawPrivateKey([]byte(s.key.value)); err != nil {
			addSettingError(&diags, s.key, "Invalid SSH Private Key",
				fmt.Sprintf("The private key from %s cannot be used: it must be an unencrypted PEM or OpenSSH private key (%s).", s.key.where(), sshKeyProblem(err)))
		}
	}
	return diags
}

// parseHostKeys reads host_key: pinned keys in authorized_keys form, one
// per line.
func parseHostKeys(hostKey setting, diags *diag.Diagnostics) []string {
	var keys []string
	for _, line := range strings.Split(hostKey.value, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
			addSettingError(diags, hostKey, "Invalid SSH Host Key",
				fmt.Sprintf("The host key %q from %s is not in authorized_keys form (\"ssh-ed25519 AAAA…\").", line, hostKey.where()))
			continue
		}
		keys = append(keys, line)
	}
	return keys
}

// sshNodeAddresses maps the ssh block's node entries by node name; a node
// listed twice is an error.
func sshNodeAddresses(nodes []sshNodeModel, diags *diag.Diagnostics) map[string]sshexec.NodeAddress {
	out := map[string]sshexec.NodeAddress{}
	for i, n := range nodes {
		name := n.Name.ValueString()
		if _, dup := out[name]; dup {
			diags.AddAttributeError(path.Root("ssh").AtName("node").AtListIndex(i).AtName("name"), "Duplicate SSH Node",
				fmt.Sprintf("Node %q is listed more than once in the ssh block; keep one entry per node.", name))
			continue
		}
		out[name] = sshexec.NodeAddress{Address: n.Address.ValueString(), Port: int(n.Port.ValueInt64())}
	}
	return out
}

// sshKeyProblem describes a key parse failure without echoing key material.
func sshKeyProblem(err error) string {
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return "it is encrypted; decrypt it or use agent = true"
	}
	return "it could not be parsed"
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

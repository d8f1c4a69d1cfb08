package sshexec

// Config says how to reach Proxmox VE nodes over SSH. The provider fills it
// from its `ssh` block; nothing here is used until a container is
// provisioned.
type Config struct {
	// Username on the node; pct needs root (default "root").
	Username string
	// Password for password authentication.
	Password string
	// PrivateKey is an unencrypted PEM/OpenSSH private key.
	PrivateKey string
	// UseAgent authenticates through the ssh-agent at AgentSocket
	// (default $SSH_AUTH_SOCK).
	UseAgent    bool
	AgentSocket string
	// Port is the default SSH port of every node (default 22).
	Port int
	// KnownHostsFile verifies host keys against an OpenSSH known_hosts file.
	KnownHostsFile string
	// HostKeys pins host keys in authorized_keys form ("ssh-ed25519 AAAA…");
	// any of them is accepted for any node.
	HostKeys []string
	// InsecureIgnoreHostKey turns host key verification off. It is an
	// explicit opt-out and is logged as a warning whenever used.
	InsecureIgnoreHostKey bool
	// Nodes maps Proxmox VE node names to the address (and port) to dial;
	// a node without an entry is dialled by its name.
	Nodes map[string]NodeAddress
}

// NodeAddress is where one node's SSH server listens.
type NodeAddress struct {
	Address string
	Port    int
}

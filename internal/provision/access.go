package provision

import "strings"

// AccessCommand is one command that changes root's access inside a
// container; the secret travels on stdin, never in argv.
type AccessCommand struct {
	Argv  []string
	Stdin string
}

// authorizedKeysScript replaces root's authorized_keys atomically with
// stdin, readable by root only.
const authorizedKeysScript = `umask 077; mkdir -p /root/.ssh && cat > /root/.ssh/authorized_keys.lxctm && mv /root/.ssh/authorized_keys.lxctm /root/.ssh/authorized_keys`

// SetAuthorizedKeys replaces root's SSH keys, which the Proxmox VE API takes
// only when a container is created.
func SetAuthorizedKeys(keys string) AccessCommand {
	return AccessCommand{Argv: []string{"/bin/sh", "-c", authorizedKeysScript}, Stdin: strings.TrimSpace(keys) + "\n"}
}

// SetRootPassword sets root's password with chpasswd, which the Proxmox VE
// API takes only when a container is created.
func SetRootPassword(password string) AccessCommand {
	return AccessCommand{Argv: []string{"chpasswd"}, Stdin: "root:" + password + "\n"}
}

package provision

// generalizeScript strips a provisioned container of its identity and
// saved secrets before it becomes a golden image (agent/generalize.sh).
var generalizeScript = mustReadAgentFile(agentFiles, "agent/generalize.sh")

// GeneralizeArgv is a command (after `pct exec <vmid> --`) that prepares a
// provisioned, running container to become a golden image: it empties
// /etc/machine-id, removes SSH host keys where openssh-server is
// installed, the credentials scripts saved with save_credential, systemd's
// random seed and the package indexes and caches. The provisioning record
// stays, so clones report what the image applied. Each clone gets its own
// identity back on its first provisioning run (Request.Clone), which also
// runs the steps that saved credentials again.
//
// It prints "[generalize] ..." lines, exits 0 when done, 1 when a change
// failed (the reason on stderr) and 3 when it is not run inside a
// container (it never strips the machine it runs on). The image's
// container is stopped and converted to a template afterwards.
func GeneralizeArgv() []string {
	return []string{"/bin/sh", "-c", generalizeScript, "lxctm-generalize"}
}

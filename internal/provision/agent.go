package provision

import (
	_ "embed" // the agent and helpers ship inside the provider binary
)

// agentScript is the provisioning agent: the only program the provider
// runs inside a container.
//
//go:embed agent/agent.sh
var agentScript string

// helpersScript defines log_info, ensure_installed, save_credential and
// the other helpers template scripts call; it travels in the payload.
//
//go:embed agent/helpers.sh
var helpersScript string

// readyScript waits, inside the container and for at most two minutes,
// until systemd has finished booting (whatever state it settles in) or
// there is no systemd to wait for.
const readyScript = `end=$(( $(date +%s) + 120 ))
while :; do
	if ! command -v systemctl >/dev/null 2>&1 || [ ! -d /run/systemd/system ]; then echo ready; exit 0; fi
	state=$(systemctl is-system-running 2>/dev/null)
	case $state in
	initializing|starting|"") ;;
	*) echo "$state"; exit 0 ;;
	esac
	if [ "$(date +%s)" -ge "$end" ]; then echo "systemd is still ${state:-not answering} after 120s" >&2; exit 1; fi
	sleep 0.5 2>/dev/null || sleep 1
done`

// ReadyArgv is a command (after `pct exec <vmid> --`) that exits 0 once the
// container can be provisioned: /bin/sh runs and `systemctl
// is-system-running` has answered with a settled state (running,
// degraded, …) or systemd is absent. It gives up with exit status 1 after
// 120 s inside the container; the provider retries the exec itself while
// the container is still starting.
func ReadyArgv() []string {
	return []string{"/bin/sh", "-c", readyScript, "lxctm-ready"}
}

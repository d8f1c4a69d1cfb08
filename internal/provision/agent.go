package provision

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

// agentFiles holds the agent's fragments and the script helpers; they ship
// inside the provider binary.
//
//go:embed agent/*.sh
var agentFiles embed.FS

// agentScript is the provisioning agent, the only program the provider
// runs inside a container: the fragments agent/[0-9]*.sh joined in name
// order (the order .ci/shellcheck-agent lints them in). Each fragment
// has one job (stdin, step output, packages, files, ...).
var agentScript = joinAgentFragments(agentFiles)

// helpersScript defines log_info, ensure_installed, save_credential and
// the other helpers template scripts call; it travels in the payload.
var helpersScript = mustReadAgentFile(agentFiles, "agent/helpers.sh")

// joinAgentFragments concatenates the fragments in name order. They are
// embedded at build time, so a failure here is a broken build and panics.
func joinAgentFragments(files fs.FS) string {
	names, err := fs.Glob(files, "agent/[0-9]*.sh")
	if err != nil || len(names) == 0 {
		panic("provision: the embedded agent has no fragments")
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(mustReadAgentFile(files, name))
	}
	return b.String()
}

// mustReadAgentFile returns an embedded file's text.
func mustReadAgentFile(files fs.FS, name string) string {
	data, err := fs.ReadFile(files, name)
	if err != nil {
		panic("provision: the embedded agent lacks " + name + ": " + err.Error())
	}
	return string(data)
}

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

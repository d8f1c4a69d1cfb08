// Package provision turns a template spec into one provisioning run inside a
// container: the embedded agent script, the stream it reads on stdin, and
// the parsing of the JSON-line results it writes.
//
// A run is one `pct exec <vmid> -- Run.Argv()...` with Run.Stdin() as
// standard input, whatever the number of packages, scripts and files:
//
//	r, err := provision.NewRun(provision.Request{Spec: spec, Rerun: "changed", Applied: state, Hostname: h})
//	if r.Empty() { ... nothing to apply ... }
//	stdin, _ := r.Stdin()
//	// exec r.Argv() in the container with stdin, stdout → pipe
//	rep, err := provision.ParseReport(stdout, func(line string) { /* tflog */ })
//	state = r.Provisioned(rep)   // what to keep in state
//	if err := rep.Err(); err != nil { ... names the step, with its output tail ... }
//
// Steps are identified by keys ("package:<manager>:<bucket>",
// "script:<name>", "file:<target>") with digests (Desired); state stores the
// digests that were applied, and NewRun selects what to (re)run from them.
// NewCheck builds a read-only run that reports drift (Report.Observed) plus
// services and credentials. ReadyArgv waits for a started container.
//
// Golden images: an apply run leaves a provisioning record in the
// container (/etc/lxctm/provisioned: step key and digest per applied
// step), and reports which steps called save_credential
// (Report.CredentialSteps). GeneralizeArgv strips a provisioned container
// of its machine id, SSH host keys, saved credentials and package caches
// before it becomes a Proxmox VE template. A clone's first run
// (Request.Clone) gives it its own identity back, runs only the steps
// that saved credentials and reports every other step from the record it
// inherited, so its provisioned digests are right from the start.
//
// The agent is a POSIX sh script, joined from the fragments
// agent/[0-9]*.sh in name order, that needs only sh, tar, sha256sum and
// the usual coreutils, sed and grep, plus the package managers it is
// asked to use; it runs under dash, bash and BusyBox. Its stdin is a
// header line "LXCTM-AGENT <protocol>" and a tar (payload.go) holding the
// steps table (one tab-separated line per step, its columns defined once
// in steptable.go), meta values, the helpers (agent/helpers.sh, sourced
// before every template script) and the payloads. It writes JSON lines
// starting with "{" (agent, step, observe, service, credential, fatal,
// done) and progress lines "[<step key>] <text>"; a stream without the
// final "done" line is an interrupted run. Step output goes to a file that
// the agent streams, so daemons started by scripts cannot hold the SSH
// session open. `make lint` checks the agent with shellcheck.
package provision

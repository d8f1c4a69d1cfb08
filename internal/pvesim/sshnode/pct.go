package sshnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// pctDieStatus is the exit status of pct when it dies before running
// anything (Perl's die, or CLIHandler's exit(-1)).
const pctDieStatus = 255

// pctInvocation is one parsed pct command.
type pctInvocation struct {
	ctx    context.Context
	cmd    *pctCommand
	params pctParams
	std    stdio
}

// vmid returns the validated vmid argument.
func (inv *pctInvocation) vmid() int {
	v, _ := inv.params.get("vmid")
	n, _ := strconv.Atoi(v) // checkVMID has accepted it
	return n
}

// simulatedCommands are the pct subcommands the simulated node runs.
var simulatedCommands = map[string]*pctCommand{
	"exec": {
		name:       "exec",
		positional: []string{"vmid", extraArgs},
		options:    map[string]optionKind{"keep-env": optBool},
		run:        (*Server).pctExec,
	},
	"push": {
		name:       "push",
		positional: []string{"vmid", "file", "destination"},
		options:    map[string]optionKind{"perms": optString, "user": optString, "group": optString},
		run:        (*Server).pctPush,
	},
	"pull": {
		name:       "pull",
		positional: []string{"vmid", "path", "destination"},
		options:    map[string]optionKind{"perms": optString, "user": optString, "group": optString},
		run:        (*Server).pctPull,
	},
	"status": {
		name:       "status",
		positional: []string{"vmid"},
		options:    map[string]optionKind{"verbose": optBool},
		run:        (*Server).pctStatus,
	},
	"list": {
		name: "list",
		run:  (*Server).pctList,
	},
	"unlock": {
		name:       "unlock",
		positional: []string{"vmid"},
		run:        (*Server).pctUnlock,
	},
}

// realCommands are all subcommands of the real pct (PVE 9), so that an
// abbreviation resolves as it would on a real node and a real command the
// simulator lacks gets a clear answer instead of "unknown command".
var realCommands = []string{
	"clone", "config", "console", "cpusets", "create", "delsnapshot", "destroy", "df", "enter",
	"exec", "fsck", "fstrim", "help", "list", "listsnapshot", "migrate", "mount", "move-volume",
	"pending", "pull", "push", "reboot", "remote-migrate", "rescan", "restore", "resize", "resume",
	"rollback", "set", "shutdown", "snapshot", "start", "status", "stop", "suspend", "template",
	"unlock", "unmount",
}

// commandAliases are real pct aliases, matched only when spelled in full.
var commandAliases = map[string]string{"move_volume": "move-volume"}

// resolveCommand expands a subcommand name like PVE's CLIHandler: an exact
// name or alias, else a unique prefix of a real command.
func resolveCommand(name string) (string, bool) {
	if target, ok := commandAliases[name]; ok {
		return target, true
	}
	var matches []string
	for _, c := range realCommands {
		if c == name {
			return c, true
		}
		if strings.HasPrefix(c, name) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 1 {
		return matches[0], true
	}
	return "", false
}

// runPct is the simulated /usr/sbin/pct.
func (s *Server) runPct(ctx context.Context, args []string, std stdio) int {
	if len(args) == 0 {
		_, _ = io.WriteString(std.err, "ERROR: no command specified\n"+pctUsage())
		return pctDieStatus
	}
	name, ok := resolveCommand(args[0])
	if !ok {
		_, _ = fmt.Fprintf(std.err, "ERROR: unknown command 'pct %s'\n%s", args[0], pctUsage())
		return pctDieStatus
	}
	cmd, ok := simulatedCommands[name]
	if !ok {
		return die(std.err, "pct %s: not available on the simulated node, which runs pct exec, push, pull, status, list and unlock; use the API for everything else", name)
	}
	params, perr := cmd.parseArgs(args[1:])
	if perr != nil {
		_, _ = io.WriteString(std.err, perr.text(cmd.usage()))
		return pctDieStatus
	}
	return cmd.run(s, &pctInvocation{ctx: ctx, cmd: cmd, params: params, std: std})
}

// pctUsage is the usage summary pct prints after a command-name error,
// limited to the commands the simulated node runs.
func pctUsage() string {
	names := make([]string, 0, len(simulatedCommands))
	for n := range simulatedCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("USAGE: pct <COMMAND> [ARGS] [OPTIONS]\n\n")
	for _, n := range names {
		b.WriteString("       " + simulatedCommands[n].usage() + "\n")
	}
	return b.String()
}

// die prints an error the way an uncaught die in pct does and returns
// pct's exit status for it.
func die(w io.Writer, format string, args ...any) int {
	_, _ = fmt.Fprintf(w, format+"\n", args...)
	return pctDieStatus
}

// configMissing is PVE's load_config error for a container whose config is
// not on this node.
func (s *Server) configMissing(w io.Writer, vmid int) int {
	return die(w, "Configuration file 'nodes/%s/lxc/%d.conf' does not exist", s.cfg.Node, vmid)
}

// execFailed reports a Host.Exec error that kept the command from running
// at all (for the memory backend: backend.ErrExecUnavailable).
func execFailed(w io.Writer, err error) int {
	return die(w, "%s", err.Error())
}

// pctExec is pct exec: checks like PVE, then the command runs in the
// container with the caller's streams and its exit status is pct's.
func (s *Server) pctExec(inv *pctInvocation) int {
	vmid := inv.vmid()
	ct, ok := s.cfg.Host.Container(vmid)
	if !ok {
		return s.configMissing(inv.std.err, vmid)
	}
	if ct.Status != "running" {
		return die(inv.std.err, "container '%d' not running!", vmid)
	}
	if len(inv.params.extra) == 0 {
		return die(inv.std.err, "missing command")
	}
	code, err := s.cfg.Host.Exec(inv.ctx, vmid, inv.params.extra, inv.std.in, inv.std.out, inv.std.err)
	if err != nil {
		return execFailed(inv.std.err, err)
	}
	return code
}

// pctStatus is pct status: "status: running" (or, with --verbose, every
// known status field as "key: value", sorted).
func (s *Server) pctStatus(inv *pctInvocation) int {
	vmid := inv.vmid()
	ct, ok := s.cfg.Host.Container(vmid)
	if !ok {
		return s.configMissing(inv.std.err, vmid)
	}
	status := ct.Status
	if status == "" {
		status = "unknown"
	}
	if verbose, _ := inv.params.get("verbose"); verbose != "1" {
		_, _ = fmt.Fprintf(inv.std.out, "status: %s\n", status)
		return 0
	}
	fields := map[string]string{"status": status, "type": "lxc", "vmid": strconv.Itoa(vmid)}
	if ct.Name != "" {
		fields["name"] = ct.Name
	}
	if ct.Lock != "" {
		fields["lock"] = ct.Lock
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_, _ = fmt.Fprintf(inv.std.out, "%s: %s\n", k, fields[k])
	}
	return 0
}

// pctList is pct list: nothing at all without containers, else PVE's
// fixed-width table sorted by VMID.
func (s *Server) pctList(inv *pctInvocation) int {
	cts := s.cfg.Host.Containers()
	if len(cts) == 0 {
		return 0
	}
	cts = append([]Container(nil), cts...)
	sort.SliceStable(cts, func(i, j int) bool { return cts[i].VMID < cts[j].VMID })
	const row = "%-10s %-10s %-12s %-20s\n"
	_, _ = fmt.Fprintf(inv.std.out, row, "VMID", "Status", "Lock", "Name")
	for _, ct := range cts {
		_, _ = fmt.Fprintf(inv.std.out, row, strconv.Itoa(ct.VMID), ct.Status, ct.Lock, ct.Name)
	}
	return 0
}

// pctUnlock is pct unlock: the config's persistent lock is removed (for
// a container whose create or backup died and left "lock: create" or
// "lock: backup" behind); it prints nothing. Without a lock it dies with
// PVE's "no lock found trying to remove any lock".
func (s *Server) pctUnlock(inv *pctInvocation) int {
	vmid := inv.vmid()
	if _, ok := s.cfg.Host.Container(vmid); !ok {
		return s.configMissing(inv.std.err, vmid)
	}
	if err := s.cfg.Host.Unlock(inv.ctx, vmid); err != nil {
		return die(inv.std.err, "%s", strings.TrimRight(err.Error(), "\n"))
	}
	return 0
}

// isExecUnavailable reports whether Host.Exec could not run anything
// because the backend cannot run commands.
func isExecUnavailable(err error) bool {
	return errors.Is(err, backend.ErrExecUnavailable)
}

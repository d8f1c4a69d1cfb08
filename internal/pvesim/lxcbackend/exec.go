package lxcbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
)

// execEnv is the environment commands get inside a container. Real `pct
// exec` runs lxc-attach with the caller's environment kept, and the caller
// on a Proxmox VE node is root's SSH session, so this is what such a
// session carries. The simulator's own environment is not passed on: on
// a developer machine or CI host it points at host-only tools (pyenv shims
// first on PATH, PIP_* and npm settings, CA bundle paths) that would change
// how the container's package managers behave.
var execEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"USER=root",
	"LOGNAME=root",
	"SHELL=/bin/bash",
	"LANG=C.UTF-8",
}

// Exec runs argv in a running container as root through lxc-attach, as
// `pct exec` does, with stdin, stdout and stderr wired through; the result
// is the command's own exit status (128+N when a signal N ended it).
func (b *Backend) Exec(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("missing command")
	}
	if _, err := b.loadState(vmid); err != nil {
		return 0, err
	}
	if !b.running(ctx, vmid) {
		return 0, fmt.Errorf("CT %d is not running", vmid)
	}
	return b.attach(ctx, vmid, argv, stdin, stdout, stderr)
}

// attach runs argv in the container. A command that leaves background
// processes holding its output open is cut off shortly after it exits.
func (b *Backend) attach(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	args := []string{"-P", b.lxcPath, "-n", strconv.Itoa(vmid), "--clear-env"}
	for _, kv := range execEnv {
		args = append(args, "--set-var", kv)
	}
	args = append(args, "--")
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, "lxc-attach", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.WaitDelay = commandWaitDelay
	err := cmd.Run()
	if cmd.ProcessState == nil {
		return 0, fmt.Errorf("lxc-attach: %w", err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return 0, fmt.Errorf("CT %d: command %q: %w", vmid, argv[0], ctxErr)
	}
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return 128 + int(status.Signal()), nil
	}
	return cmd.ProcessState.ExitCode(), nil
}

// Interfaces reports a running container's interfaces, loopback included,
// as read from its network namespace with the host's `ip`, each with every
// address in ip's order (PVE's get_interfaces runs the same command). A
// stopped container has none (the API answers null).
func (b *Backend) Interfaces(ctx context.Context, vmid int) ([]backend.Interface, error) {
	if _, err := b.loadState(vmid); err != nil {
		return nil, err
	}
	pid, ok := b.initPID(ctx, vmid)
	if !ok {
		return nil, nil
	}
	out, err := runCommand(ctx, "nsenter", "--target", strconv.Itoa(pid), "--net", "--", "ip", "-j", "addr", "show")
	if err != nil {
		return nil, fmt.Errorf("CT %d interfaces: %w", vmid, err)
	}
	return parseIPAddr([]byte(out))
}

// parseIPAddr turns `ip -j addr show` output into interfaces, keeping
// every address (link-local ones included) in the order ip lists them.
func parseIPAddr(data []byte) ([]backend.Interface, error) {
	var links []struct {
		Name     string `json:"ifname"`
		Address  string `json:"address"`
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(data, &links); err != nil {
		return nil, fmt.Errorf("parsing `ip -j addr`: %w", err)
	}
	out := make([]backend.Interface, 0, len(links))
	for _, link := range links {
		iface := backend.Interface{Name: link.Name, HWAddr: link.Address}
		for _, a := range link.AddrInfo {
			if a.Family != "inet" && a.Family != "inet6" {
				continue
			}
			addr, err := netip.ParseAddr(a.Local)
			if err != nil {
				return nil, fmt.Errorf("parsing `ip -j addr`: interface %s: %w", link.Name, err)
			}
			p := netip.PrefixFrom(addr, a.PrefixLen)
			if !p.IsValid() {
				return nil, fmt.Errorf("parsing `ip -j addr`: interface %s: prefix length %d of %s", link.Name, a.PrefixLen, a.Local)
			}
			iface.Addresses = append(iface.Addresses, p)
		}
		out = append(out, iface)
	}
	return out, nil
}

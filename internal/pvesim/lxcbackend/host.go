package lxcbackend

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
)

// hostTool is a program the backend runs on the host and the Debian package
// that provides it.
type hostTool struct {
	binary  string
	pkg     string
	purpose string
}

// hostTools is everything the backend runs on the host.
var hostTools = []hostTool{
	{"lxc-start", "lxc", "running containers"},
	{"lxc-stop", "lxc", "stopping containers"},
	{"lxc-attach", "lxc", "pct exec"},
	{"lxc-info", "lxc", "container state"},
	{"lxc-wait", "lxc", "waiting for container state"},
	{"lxc-cgroup", "lxc", "changing limits of running containers"},
	{"mmdebstrap", "mmdebstrap", "building OS images"},
	{"zstd", "zstd", "compressing OS images"},
	{"tar", "tar", "unpacking OS images"},
	{"cp", "coreutils", "copying root filesystems"},
	{"nft", "nftables", "isolating the bridge"},
	{"ip", "iproute2", "the bridge and container addresses"},
	{"nsenter", "util-linux", "reading container interfaces"},
}

// lxcCommonConfig is the stock LXC configuration every container includes.
const lxcCommonConfig = "/usr/share/lxc/config/common.conf"

// Available reports why the lxc backend cannot run on this machine, or nil
// when it can. The real-container tests skip with this message; installing
// MissingPackages fixes the missing-package cases.
func Available() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the lxc backend needs Linux (this is %s)", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return errors.New("the lxc backend needs root (it creates a bridge, nftables rules and LXC containers)")
	}
	if missing := missingTools(); len(missing) > 0 {
		return fmt.Errorf("the lxc backend needs %s; install with: apt-get install -y --no-install-recommends %s",
			describeTools(missing), strings.Join(toolPackages(missing), " "))
	}
	if _, err := os.Stat(lxcCommonConfig); err != nil {
		return fmt.Errorf("the lxc backend needs LXC's stock configuration (%s): reinstall the lxc package: %w", lxcCommonConfig, err)
	}
	filesystems, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return fmt.Errorf("the lxc backend cannot read /proc/filesystems: %w", err)
	}
	if !strings.Contains(string(filesystems), "\toverlay\n") {
		return errors.New("the lxc backend needs overlayfs in the kernel (modprobe overlay)")
	}
	return nil
}

// MissingPackages lists the Debian packages that provide the host tools
// the backend lacks, each once, in a stable order; none when every tool is
// on PATH.
func MissingPackages() []string { return toolPackages(missingTools()) }

// missingTools lists the host tools that are not on PATH.
func missingTools() []hostTool {
	var missing []hostTool
	for _, tool := range hostTools {
		if _, err := exec.LookPath(tool.binary); err != nil {
			missing = append(missing, tool)
		}
	}
	return missing
}

// toolPackages lists the packages that provide tools, each once, in order.
func toolPackages(tools []hostTool) []string {
	var pkgs []string
	for _, tool := range tools {
		if !slices.Contains(pkgs, tool.pkg) {
			pkgs = append(pkgs, tool.pkg)
		}
	}
	return pkgs
}

// describeTools names missing tools with what each is for.
func describeTools(tools []hostTool) string {
	parts := make([]string, len(tools))
	for i, tool := range tools {
		parts[i] = fmt.Sprintf("%s (%s, package %s)", tool.binary, tool.purpose, tool.pkg)
	}
	return strings.Join(parts, ", ")
}

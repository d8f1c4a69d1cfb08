//go:build !windows

package provision

import (
	"os"
	"os/exec"
	"syscall"
)

// The tests run the agent on the host; these helpers keep the few
// platform-specific checks out of them, so the package's tests also compile
// for Windows (GOOS=windows go vet).

// fileOwner is the uid and gid of a file; ok is false where the platform
// does not record them.
func fileOwner(info os.FileInfo) (uid, gid int, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// processAlive says whether a process with this pid exists.
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// killProcess ends a process the test started, by its pid.
func killProcess(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

// ownProcessGroup starts cmd in a process group of its own, so the test can
// end it with everything it started, as a dropped SSH session does.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// terminateProcessGroup sends SIGTERM to cmd's process group.
func terminateProcessGroup(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }

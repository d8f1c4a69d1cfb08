package provision

import (
	"os"
	"os/exec"
)

// fileOwner is the uid and gid of a file; Windows has neither.
func fileOwner(os.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// processAlive says whether a process with this pid exists.
func processAlive(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}

// killProcess ends a process the test started, by its pid.
func killProcess(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// ownProcessGroup: Windows has no process groups of this kind.
func ownProcessGroup(*exec.Cmd) {}

// terminateProcessGroup ends cmd itself.
func terminateProcessGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

package lxcbackend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Bounds of waiting for containers.
const (
	// bootTimeout bounds waiting for systemd inside a started container.
	bootTimeout = 2 * time.Minute
	// defaultShutdownTimeout is a clean stop's limit when ctx has none.
	defaultShutdownTimeout = 60 * time.Second
)

// lxcState is LXC's state of a container (RUNNING, STOPPED, ...), or "" when
// LXC does not know it.
func lxcState(ctx context.Context, lxcPath, name string) string {
	out, err := runCommand(ctx, "lxc-info", "-P", lxcPath, "-n", name, "-sH")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// initPID returns a running container's init process as the host sees it.
func (b *Backend) initPID(ctx context.Context, vmid int) (int, bool) {
	out, err := runCommand(ctx, "lxc-info", "-P", b.lxcPath, "-n", strconv.Itoa(vmid), "-pH")
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// running reports whether LXC runs the container.
func (b *Backend) running(ctx context.Context, vmid int) bool {
	return lxcState(ctx, b.lxcPath, strconv.Itoa(vmid)) == "RUNNING"
}

// Start boots the container and waits until its init has finished booting
// (systemd running or degraded, or /bin/sh answering where there is no
// systemd), so what follows can exec into a ready system. Starting a
// running container does nothing.
func (b *Backend) Start(ctx context.Context, vmid int) error {
	st, err := b.loadState(vmid)
	if err != nil {
		return err
	}
	if st.Template {
		return errors.New("you can't start a CT if it's a template")
	}
	if b.running(ctx, vmid) {
		return nil
	}
	name := strconv.Itoa(vmid)
	logFile := filepath.Join(b.containerDir(vmid), containerLogFile)
	_ = os.Remove(logFile)
	if _, err := runCommand(ctx, "lxc-start", "-P", b.lxcPath, "-n", name, "-o", logFile, "-l", "WARN"); err != nil {
		return fmt.Errorf("startup for container '%d' failed: %w%s", vmid, err, lxcLogErrors(logFile))
	}
	return b.waitBooted(ctx, vmid)
}

// lxcLogErrors formats the ERROR lines of an lxc-start log for an error
// message.
func lxcLogErrors(logFile string) string {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return ""
	}
	var lines []string
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, " ERROR ") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	return outputTail(strings.Join(lines, "\n"), 10)
}

// bootStateScript prints systemd's overall state (failing until systemd
// answers), or "running" in a container whose init is not systemd. It asks
// what /sbin/init is rather than what PID 1 is, as PID 1 is still LXC's
// own process for a moment after the start.
const bootStateScript = `case "$(readlink -f /sbin/init)" in */systemd) systemctl is-system-running ;; *) echo running ;; esac`

// waitBooted polls the container's boot state until it settles.
func (b *Backend) waitBooted(ctx context.Context, vmid int) error {
	ctx, cancel := context.WithTimeout(ctx, bootTimeout)
	defer cancel()
	state := "not answering"
	delay := 50 * time.Millisecond
	for {
		var out strings.Builder
		code, err := b.attach(ctx, vmid, []string{"/bin/sh", "-c", bootStateScript}, nil, &out, nil)
		if err == nil {
			if s := strings.TrimSpace(out.String()); s != "" {
				state = s
			}
			if code == 0 || state == "degraded" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CT %d did not finish booting within %s (systemd: %s)", vmid, bootTimeout, state)
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// Stop halts the container: with force at once (lxc-stop -k), otherwise
// through a clean shutdown of its init that may take until ctx's deadline
// (60 s without one); a shutdown that does not finish in time is an error
// and leaves the container running, as Proxmox VE's shutdown does without
// forceStop. Stopping a stopped container does nothing.
func (b *Backend) Stop(ctx context.Context, vmid int, force bool) error {
	if _, err := b.loadState(vmid); err != nil {
		return err
	}
	name := strconv.Itoa(vmid)
	if lxcState(ctx, b.lxcPath, name) == "STOPPED" {
		return nil
	}
	if force {
		if _, err := runCommand(ctx, "lxc-stop", "-P", b.lxcPath, "-n", name, "-k"); err != nil && b.running(ctx, vmid) {
			return fmt.Errorf("stopping CT %d: %w", vmid, err)
		}
		return nil
	}
	timeout := defaultShutdownTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = time.Until(deadline) - time.Second // lxc-stop answers before ctx ends
	}
	seconds := max(int(timeout/time.Second), 1)
	if _, err := runCommand(ctx, "lxc-stop", "-P", b.lxcPath, "-n", name, "--nokill", "-t", strconv.Itoa(seconds)); err != nil {
		if !b.running(context.WithoutCancel(ctx), vmid) {
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) || isExitError(err) {
			return fmt.Errorf("CT %d did not shut down within %ds", vmid, seconds)
		}
		return fmt.Errorf("shutting down CT %d: %w", vmid, err)
	}
	return nil
}

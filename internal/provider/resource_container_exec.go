package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

// Work inside a pve_lxc_container over SSH and pct exec: readiness, the
// provisioning agent, and root's keys and password.

// pctExec runs argv in the container over SSH on its node and streams
// the output lines to tflog.
func (r *containerResource) pctExec(ctx context.Context, ref containerRef, argv []string, stdin io.Reader, stdout func(string)) error {
	client, err := r.data.sshClient()
	if err != nil {
		return err
	}
	_, err = client.Run(ctx, ref.node, sshexec.Command{
		Argv:   sshexec.PctExec(ref.vmid, argv...),
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: func(line string) { tflog.SubsystemTrace(ctx, logSubsystemSSH, "stderr", map[string]any{"line": line}) },
	})
	return err
}

// pctUnlock runs `pct unlock <vmid>` on the container's node over SSH: it
// removes the config's persistent lock, which the API cannot.
func (r *containerResource) pctUnlock(ctx context.Context, ref containerRef) error {
	client, err := r.data.sshClient()
	if err != nil {
		return err
	}
	_, err = client.Run(ctx, ref.node, sshexec.Command{Argv: pctUnlockArgv(ref.vmid)})
	return err
}

// pctUnlockArgv is the command that removes container vmid's config lock.
func pctUnlockArgv(vmid int) []string { return []string{"pct", "unlock", strconv.Itoa(vmid)} }

// Readiness: right after a start, pct exec answers "not running" until
// the container's init is up, which is worth waiting for; any other
// failure (no /bin/sh, lxc-attach refusing, the ready script giving up)
// will not go away by itself, so it is reported after a few tries with
// its exit status and stderr. The whole wait has its own bound, far below
// a create's timeout.
const (
	defaultReadyWait = 5 * time.Minute
	readyOtherTries  = 3 // consecutive failures other than "not running"
)

// waitReady waits until the container runs a shell and its init system has
// settled, bounded by ctx and by the readiness wait.
func (r *containerResource) waitReady(ctx context.Context, ref containerRef) error {
	wait := r.data.readyWait
	if wait <= 0 {
		wait = defaultReadyWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	other := 0
	for delay := 500 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		err := r.pctExec(ctx, ref, provision.ReadyArgv(), nil, nil)
		if err == nil {
			return nil
		}
		var exit *sshexec.ExitError
		if !errors.As(err, &exit) {
			if ctx.Err() != nil {
				return fmt.Errorf("container %d did not become ready within %s: %w", ref.vmid, wait, err)
			}
			return err // no SSH: retrying does not help
		}
		other++
		if notRunning(exit) {
			other = 0
		}
		if other >= readyOtherTries {
			return fmt.Errorf("container %d is not ready to be provisioned: %w", ref.vmid, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container %d did not become ready within %s (last attempt: %w)", ref.vmid, wait, err)
		case <-time.After(delay):
		}
	}
}

// notRunning reports pct's answer for a container that is not (yet)
// running: "container '101' not running!".
func notRunning(exit *sshexec.ExitError) bool {
	return strings.Contains(string(exit.Stderr), "not running")
}

// runAgent runs one provisioning (or check) run in the container: one
// pct exec, whatever the number of steps. Progress goes to tflog as it
// happens; the report comes back even when a step failed.
func (r *containerResource) runAgent(ctx context.Context, ref containerRef, run *provision.Run) (*provision.Report, error) {
	stdin, err := run.Stdin()
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	type parsed struct {
		rep *provision.Report
		err error
	}
	done := make(chan parsed, 1)
	go func() {
		rep, err := provision.ParseReport(pr, func(line string) {
			tflog.Info(ctx, "provisioning", map[string]any{"vmid": ref.vmid, "line": line})
		})
		_, _ = io.Copy(io.Discard, pr)
		done <- parsed{rep, err}
	}()
	runErr := r.pctExec(ctx, ref, run.Argv(), stdin, func(line string) {
		_, _ = io.WriteString(pw, line+"\n")
	})
	_ = pw.Close()
	res := <-done
	var exit *sshexec.ExitError
	switch {
	case res.err != nil:
		return nil, res.err
	case runErr != nil && !errors.As(runErr, &exit):
		// The transport failed (not the agent): the report says how far
		// it got; the run is not repeated.
		if res.rep != nil {
			res.rep.Interrupted = true
		}
		return res.rep, fmt.Errorf("provisioning container %d over SSH: %w", ref.vmid, runErr)
	}
	return res.rep, nil
}

// rootAccess is a change of root's SSH keys or password since the last
// apply; nil fields are unchanged.
type rootAccess struct {
	keys, password *string
}

func (a rootAccess) changed() bool { return a.keys != nil || a.password != nil }

// accessChanges returns root's new SSH keys and password when they changed
// since the last apply.
func accessChanges(ctx context.Context, req resource.UpdateRequest, plan, state containerResourceModel, diags *diag.Diagnostics) rootAccess {
	var a rootAccess
	if !plan.SSHPublicKeys.Equal(state.SSHPublicKeys) && known(plan.SSHPublicKeys) {
		a.keys = ptr(plan.SSHPublicKeys.ValueString())
	}
	if !plan.Password.Equal(state.Password) && known(plan.Password) {
		a.password = ptr(plan.Password.ValueString())
	}
	if !plan.PasswordWOVersion.Equal(state.PasswordWOVersion) {
		var wo types.String
		diags.Append(req.Config.GetAttribute(ctx, path.Root("password_wo"), &wo)...)
		if known(wo) {
			a.password = ptr(wo.ValueString())
		}
	}
	return a
}

// applyAccess changes root's SSH keys and password inside an existing
// container, which the Proxmox VE API can set only at creation.
func (r *containerResource) applyAccess(ctx context.Context, ref containerRef, a rootAccess) error {
	if a.keys != nil {
		cmd := provision.SetAuthorizedKeys(*a.keys)
		if err := r.pctExec(ctx, ref, cmd.Argv, strings.NewReader(cmd.Stdin), nil); err != nil {
			return fmt.Errorf("writing root's authorized_keys: %w", err)
		}
	}
	if a.password != nil {
		cmd := provision.SetRootPassword(*a.password)
		if err := r.pctExec(ctx, ref, cmd.Argv, strings.NewReader(cmd.Stdin), nil); err != nil {
			return fmt.Errorf("setting root's password: %w", sanitized(err, *a.password))
		}
	}
	return nil
}

// sanitized keeps a secret out of an error text.
func sanitized(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "********"))
}

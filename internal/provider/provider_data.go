package provider

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

// Log subsystems of the provider's own layers; TF_LOG_PROVIDER_PVE_PVEAPI and
// TF_LOG_PROVIDER_PVE_SSH set their levels independently.
const (
	logSubsystemAPI = "pveapi"
	logSubsystemSSH = "ssh"
)

// providerData is what Configure hands to every resource and data source:
// one API client shared by all of them, the SSH settings for provisioning and
// the default timeouts.
type providerData struct {
	// API is nil when the provider block configures no endpoint; resources
	// that need the API report that at plan time.
	API *pveapi.Client
	// SSH is nil when no ssh block (or PVE_SSH_* variable) is given.
	SSH *sshexec.Config
	// Timeouts are the defaults a resource's timeouts block overrides.
	Timeouts defaultTimeouts
	// secrets are masked in every log line written under logContext.
	secrets []string
	// cluster is the guest list shared by the Reads of one refresh.
	cluster clusterView
	// readyWait bounds the wait for a started container to be ready for
	// provisioning; 0 means defaultReadyWait.
	readyWait time.Duration
	// snapshotTasks serialise the snapshot tasks of each container.
	snapshotTasks guestTaskLocks
	// sshState is the SSH client, made on first use.
	sshState
}

// defaultTimeouts are the provider-wide operation timeouts.
type defaultTimeouts struct {
	Create, Read, Update, Delete time.Duration
}

var builtinTimeouts = defaultTimeouts{
	Create: 30 * time.Minute,
	Read:   5 * time.Minute,
	Update: 30 * time.Minute,
	Delete: 10 * time.Minute,
}

// logContext prepares ctx for a call into the API client or SSH layer: the
// pveapi and ssh log subsystems exist and every configured secret is masked,
// wherever it might appear.
func (d *providerData) logContext(ctx context.Context) context.Context {
	ctx = tflog.NewSubsystem(ctx, logSubsystemAPI)
	ctx = tflog.NewSubsystem(ctx, logSubsystemSSH)
	if len(d.secrets) == 0 {
		return ctx
	}
	ctx = tflog.MaskLogStrings(ctx, d.secrets...)
	ctx = tflog.SubsystemMaskLogStrings(ctx, logSubsystemAPI, d.secrets...)
	ctx = tflog.SubsystemMaskLogStrings(ctx, logSubsystemSSH, d.secrets...)
	return ctx
}

// sshState holds the lazily made SSH client of providerData.
type sshState struct {
	sshOnce sync.Once
	ssh     *sshexec.Client
	sshErr  error
}

// sshClient is the provider's one SSH client, made on first use.
func (d *providerData) sshClient() (*sshexec.Client, error) {
	d.sshOnce.Do(func() {
		if d.SSH == nil {
			d.sshErr = errors.New("the provider has no ssh block (or PVE_SSH_* settings)")
			return
		}
		d.ssh, d.sshErr = sshexec.New(*d.SSH)
	})
	return d.ssh, d.sshErr
}

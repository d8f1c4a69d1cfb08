package sshexec

import (
	"context"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// LogSubsystem is the tflog subsystem this package logs to. The provider
// creates it (tflog.NewSubsystem) so its level can be set on its own
// (TF_LOG_PROVIDER_PVE_SSH); without a logger in ctx logging is a no-op.
//
// Log lines carry nodes, addresses, the user name, key fingerprints,
// command names (first words only), exit codes and durations — never
// passwords, keys, stdin, scripts or full argument lists.
const LogSubsystem = "ssh"

func subsystemDebug(ctx context.Context, msg string, fields map[string]any) {
	tflog.SubsystemDebug(ctx, LogSubsystem, msg, fields)
}

func subsystemWarn(ctx context.Context, msg string, fields map[string]any) {
	tflog.SubsystemWarn(ctx, LogSubsystem, msg, fields)
}

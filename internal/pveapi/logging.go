package pveapi

import (
	"context"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// LogSubsystem is the tflog subsystem this package logs to. The provider
// creates it (tflog.NewSubsystem) so its level can be set on its own
// (TF_LOG_PROVIDER_PVE_PVEAPI…); without a logger in ctx logging is a no-op.
//
// Log lines carry methods, paths, statuses, durations, attempts and user
// ids — never tokens, passwords, tickets, CSRF tokens or request/response
// bodies.
const LogSubsystem = "pveapi"

func subsystemTrace(ctx context.Context, msg string, fields map[string]any) {
	tflog.SubsystemTrace(ctx, LogSubsystem, msg, fields)
}

func subsystemDebug(ctx context.Context, msg string, fields map[string]any) {
	tflog.SubsystemDebug(ctx, LogSubsystem, msg, fields)
}

func subsystemWarn(ctx context.Context, msg string, fields map[string]any) {
	tflog.SubsystemWarn(ctx, LogSubsystem, msg, fields)
}

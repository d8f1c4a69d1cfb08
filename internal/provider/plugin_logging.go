package provider

import (
	"os"
	"strings"
)

// Terraform reads a provider's log lines from the plugin's stderr and, when
// neither TF_LOG nor TF_LOG_PROVIDER is set, parses and drops every one of
// them. The plugin SDK's loggers (terraform-plugin-go, the framework) still
// default to TRACE and format several JSON lines per resource and RPC, which
// cost about a quarter of the provider's CPU in a plan. silencedLoggers turns
// them off, and the provider's own logger with them, in exactly that case.

// logLevelVars are the variables the plugin libraries take logger levels
// from, each set to "off": the SDK root logger (terraform-plugin-go), its
// proto and framework subsystems, and this provider's root logger, whose
// pveapi and ssh subsystems inherit its level.
var logLevelVars = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_PVE"}

// silencedLoggers returns the variables to set so that nobody-reads log
// lines are never formatted: none when any TF_LOG* variable is set (TF_LOG,
// TF_LOG_PATH, TF_LOG_PROVIDER…, TF_LOG_SDK…: whoever sets one gets every
// line they get without this) or when the provider runs in debug mode, where
// its stderr goes to the developer's terminal.
func silencedLoggers(environ []string, debug bool) map[string]string {
	if debug {
		return nil
	}
	for _, kv := range environ {
		if name, value, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TF_LOG") && value != "" {
			return nil
		}
	}
	set := make(map[string]string, len(logLevelVars))
	for _, name := range logLevelVars {
		set[name] = "off"
	}
	return set
}

// SilenceUnreadLogs turns the SDK, framework and provider loggers off when
// Terraform discards their output anyway (see silencedLoggers). main calls
// it before serving the provider; the libraries read the variables for each
// request.
func SilenceUnreadLogs(debug bool) error {
	for name, value := range silencedLoggers(os.Environ(), debug) {
		if err := os.Setenv(name, value); err != nil {
			return err
		}
	}
	return nil
}

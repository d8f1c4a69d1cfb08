package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// addTaskWarnings surfaces a task's WARNINGS lines as diagnostics.
func addTaskWarnings(diags *diag.Diagnostics, what string, res *pveapi.TaskResult) {
	if res == nil || len(res.Warnings) == 0 {
		return
	}
	diags.AddWarning(what+" Reported Warnings", strings.Join(res.Warnings, "\n"))
}

// addContainerError reports that something failed for one container: the
// summary says what could not be done, the detail which container and why.
func addContainerError(diags *diag.Diagnostics, summary string, ref containerRef, format string, args ...any) {
	diags.AddError(summary, fmt.Sprintf("Container %d on node %s: ", ref.vmid, ref.node)+fmt.Sprintf(format, args...))
}

// addContainerWarning is addContainerError's warning.
func addContainerWarning(diags *diag.Diagnostics, summary string, ref containerRef, format string, args ...any) {
	diags.AddWarning(summary, fmt.Sprintf("Container %d on node %s: ", ref.vmid, ref.node)+fmt.Sprintf(format, args...))
}

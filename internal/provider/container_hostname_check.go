package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// Terraform cannot keep orphans from happening: an apply killed after PVE
// created a container but before the state was written leaves one, and
// the next apply creates it again under the same host name. The plan of a
// new container therefore warns when the cluster already has a container
// of that name which this configuration does not track, and says how to
// adopt it instead. It uses the shared guest list (cluster_view.go): no
// request per container.

// warnDuplicateHostname warns when a container being created has a host
// name another container of the cluster already has.
func (r *containerResource) warnDuplicateHostname(ctx context.Context, in planInputs, plan containerResourceModel, diags *diag.Diagnostics) {
	if in.state != nil || !known(plan.Hostname) || r.data == nil || r.data.API == nil {
		return
	}
	name := plan.Hostname.ValueString()
	same, err := r.data.containersNamed(ctx, r.data.API, name)
	if err != nil {
		tflog.Warn(ctx, "could not list the cluster's guests to look for the host name", map[string]any{"error": err.Error()})
		return
	}
	if len(same) == 0 {
		return
	}
	slices.SortFunc(same, func(a, b pveapi.ClusterResource) int { return a.VMID - b.VMID })
	var which, imports []string
	for _, g := range same {
		which = append(which, fmt.Sprintf("container %d on node %s", g.VMID, g.Node))
		imports = append(imports, fmt.Sprintf("  terraform import <address> %s", containerID(g.Node, int64(g.VMID))))
	}
	// The name is in the summary: Terraform folds warnings of one summary
	// into the first, and each name deserves its own.
	diags.AddAttributeWarning(path.Root("hostname"), fmt.Sprintf("Host Name %q Already in Use", name), fmt.Sprintf(
		"This plan creates a container named %q, and the cluster already has %s with that host name. If it is one "+
			"this configuration lost track of (an apply interrupted after Proxmox VE created it), import it instead "+
			"of creating another, with this resource's address (e.g. pve_lxc_container.web):\n%s\n"+
			"Otherwise choose another host name, or ignore this if two containers of that name are intended.",
		name, strings.Join(which, " and "), strings.Join(imports, "\n")))
}

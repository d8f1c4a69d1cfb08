package provider

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// containerFilter is what the pve_lxc_container list block selects, applied
// to the cluster's guest list (GET /cluster/resources?type=vm), which names
// each guest's node, host name and tags: filtering costs no request per
// container.
type containerFilter struct {
	node     string   // "" = every node
	tags     []string // normalised; every one must be present
	hostname string   // a path.Match glob, matched lower-cased; "" = any
}

// selectContainers returns the LXC containers the filter matches, by
// vmid. Virtual machines and container templates (converted with
// `pct template`, e.g. pve_lxc_template's golden images) are never listed:
// a template cannot run, and pve_lxc_container does not manage one.
func selectContainers(guests []pveapi.ClusterResource, f containerFilter) []pveapi.ClusterResource {
	var out []pveapi.ClusterResource
	for _, g := range guests {
		if g.Type == "lxc" && !g.Template && f.matches(g) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b pveapi.ClusterResource) int { return a.VMID - b.VMID })
	return out
}

func (f containerFilter) matches(g pveapi.ClusterResource) bool {
	if f.node != "" && g.Node != f.node {
		return false
	}
	if f.hostname != "" {
		// The pattern was validated, so Match cannot fail here.
		if ok, _ := path.Match(strings.ToLower(f.hostname), strings.ToLower(g.Name)); !ok {
			return false
		}
	}
	have := pveformat.NormalizeTags(pveformat.SplitTags(g.Tags))
	for _, t := range f.tags {
		if _, found := slices.BinarySearch(have, t); !found {
			return false
		}
	}
	return true
}

// globPattern validates a host name pattern: path.Match syntax (`*`, `?`,
// `[a-z]`, `\` escapes).
type globPattern struct{}

var _ validator.String = globPattern{}

func (globPattern) Description(context.Context) string {
	return "must be a glob pattern: * matches any characters, ? one character, [a-z] one of a class"
}

func (v globPattern) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v globPattern) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !known(req.ConfigValue) {
		return
	}
	if _, err := path.Match(req.ConfigValue.ValueString(), ""); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Host Name Pattern", fmt.Sprintf(
			"%q is not a valid glob pattern (%v): use * for any characters, ? for one, [a-z] for one of a class, "+
				"and \\ before a character meant literally, e.g. \"web-*\".", req.ConfigValue.ValueString(), err))
	}
}

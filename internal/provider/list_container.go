package provider

import (
	"context"
	"fmt"
	"iter"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/list/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

var (
	_ list.ListResource              = (*containerListResource)(nil)
	_ list.ListResourceWithConfigure = (*containerListResource)(nil)
)

// listReadWorkers is how many containers a listing with include_resource
// reads at once; the API client's max_parallel_requests caps it further.
const listReadWorkers = 4

// NewContainerListResource is the constructor of the pve_lxc_container list
// resource, which `terraform query` (Terraform 1.14 and later) uses to find
// containers to import.
func NewContainerListResource() list.ListResource {
	return &containerListResource{}
}

// containerListResource lists the cluster's LXC containers with one
// GET /cluster/resources?type=vm. Each result carries the identity (node,
// vmid) and the host name; when Terraform asks for the full object
// (include_resource, and always for -generate-config-out), each matching
// container is read the way import + Read read it, so the object and the
// configuration generated from it equal what state holds after the import.
type containerListResource struct {
	r containerResource
}

// containerListModel is the list block's config.
type containerListModel struct {
	Node     types.String `tfsdk:"node"`
	Tags     types.List   `tfsdk:"tags"`
	Hostname types.String `tfsdk:"hostname"`
}

func (l *containerListResource) Metadata(ctx context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	l.r.Metadata(ctx, req, resp)
}

func (l *containerListResource) Configure(ctx context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	l.r.Configure(ctx, req, resp)
}

func (l *containerListResource) ListResourceConfigSchema(_ context.Context, _ list.ListResourceSchemaRequest, resp *list.ListResourceSchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds the cluster's LXC containers for `terraform query` (Terraform 1.14 or later), to import " +
			"them as `pve_lxc_container` resources. Every filter that is set must match. Container templates and " +
			"virtual machines are never listed.",
		Attributes: map[string]schema.Attribute{
			"node": schema.StringAttribute{
				MarkdownDescription: "Only containers on this node.",
				Optional:            true,
				Validators: []validator.String{stringvalidator.RegexMatches(hostnameRE,
					"must be a Proxmox VE node name: letters, digits and inner hyphens")},
			},
			"tags": schema.ListAttribute{
				MarkdownDescription: "Only containers that have every one of these tags (compared case-insensitively, " +
					"as Proxmox VE stores tags lower-cased).",
				Optional:    true,
				ElementType: types.StringType,
				Validators: []validator.List{listvalidator.ValueStringsAre(stringvalidator.RegexMatches(tagRE,
					"must start with a letter, digit or underscore and contain only letters, digits and _ - + ."))},
			},
			"hostname": schema.StringAttribute{
				MarkdownDescription: "Only containers whose host name matches this glob pattern, compared " +
					"case-insensitively against the whole name: `*` matches any characters, `?` one character, " +
					"`[a-c]` one of a class, `\\` escapes the next character (Go's `path.Match` rules). " +
					"For example `web-*` or `db-0[1-3]`.",
				Optional:   true,
				Validators: []validator.String{globPattern{}},
			},
		},
	}
}

func (l *containerListResource) List(ctx context.Context, req list.ListRequest, stream *list.ListResultsStream) {
	var cfg containerListModel
	diags := req.Config.Get(ctx, &cfg)
	filter := containerFilter{node: cfg.Node.ValueString(), hostname: cfg.Hostname.ValueString()}
	var tags []string
	if !diags.HasError() {
		diags.Append(cfg.Tags.ElementsAs(ctx, &tags, false)...)
	}
	if diags.HasError() {
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	filter.tags = pveformat.NormalizeTags(tags)
	if l.r.data == nil || l.r.data.API == nil {
		diags.AddError("Missing Proxmox VE API Endpoint", "pve_lxc_container lists containers through the Proxmox VE API, "+
			"but the provider has no endpoint. Set endpoint and credentials in the provider block.")
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	ctx = l.r.data.logContext(ctx)
	guests, err := l.r.data.API.ClusterResources(ctx, "vm")
	if err != nil {
		diags.AddError("Unable to List Containers", fmt.Sprintf("Listing the cluster's guests (GET /cluster/resources) failed: %v", err))
		stream.Results = list.ListResultsStreamDiagnostics(diags)
		return
	}
	stream.Results = l.results(ctx, req, selectContainers(guests, filter))
}

// results yields one result per selected container, in vmid order, up to
// Terraform's limit; a container deleted while it is listed is left out.
func (l *containerListResource) results(ctx context.Context, req list.ListRequest, guests []pveapi.ClusterResource) iter.Seq[list.ListResult] {
	return func(push func(list.ListResult) bool) {
		var pushed int64
		read := func(ctx context.Context, g pveapi.ClusterResource) listedContainer { return l.result(ctx, req, g) }
		for c := range inOrder(ctx, guests, listReadWorkers, read) {
			if c.gone {
				continue
			}
			if (req.Limit > 0 && pushed >= req.Limit) || !push(c.result) {
				return
			}
			pushed++
		}
	}
}

// listedContainer is one container's result, or gone when it disappeared
// between the guest list and its config read.
type listedContainer struct {
	result list.ListResult
	gone   bool
}

// result is one container's list result: the identity and host name, and
// with include_resource the object import + Read would put in state.
func (l *containerListResource) result(ctx context.Context, req list.ListRequest, g pveapi.ClusterResource) listedContainer {
	ref := containerRef{node: g.Node, vmid: g.VMID}
	res := req.NewListResult(ctx)
	res.DisplayName = g.Name
	res.Diagnostics.Append(res.Identity.Set(ctx, identityOf(ref))...)
	if !req.IncludeResource || res.Diagnostics.HasError() {
		return listedContainer{result: res}
	}
	ctx, cancel := context.WithTimeout(ctx, l.r.data.Timeouts.Read)
	defer cancel()
	state := tfsdk.State{Schema: res.Resource.Schema, Raw: res.Resource.Raw}
	gone := l.r.readImported(ctx, ref, g.Status, &state, &res.Diagnostics)
	res.Resource.Raw = state.Raw
	return listedContainer{result: res, gone: gone}
}

// readImported fills state as ImportState followed by Read would: the
// import-time values first, then everything the container's config and
// status say. It reports whether the container is gone.
func (r *containerResource) readImported(ctx context.Context, ref containerRef, status string, state *tfsdk.State, diags *diag.Diagnostics) (gone bool) {
	r.importState(ctx, ref, state, nil, diags)
	var m containerResourceModel
	diags.Append(state.Get(ctx, &m)...)
	if diags.HasError() {
		return false
	}
	if r.observe(ctx, ref, status, addressKnownOrAsk, &m, diags) {
		return true
	}
	if diags.HasError() {
		return false
	}
	r.checkDrift(ctx, ref, &m, diags)
	diags.Append(state.Set(ctx, &m)...)
	return false
}

// inOrder calls fn on every item, at most workers at a time, and yields the
// results in the items' order. When the consumer stops early, the calls
// not yet started never start and the running ones see ctx cancelled.
func inOrder[T, R any](ctx context.Context, items []T, workers int, fn func(context.Context, T) R) iter.Seq[R] {
	return func(yield func(R) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		slots := make(chan struct{}, workers)
		done := make([]chan R, len(items))
		for i := range done {
			done[i] = make(chan R, 1)
		}
		go func() {
			for i, item := range items {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				if ctx.Err() != nil {
					return
				}
				go func() {
					defer func() { <-slots }()
					done[i] <- fn(ctx, item)
				}()
			}
		}()
		for i := range items {
			select {
			case r := <-done[i]:
				if !yield(r) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}
}

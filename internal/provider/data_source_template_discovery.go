package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

var _ datasource.DataSource = (*templateDiscoveryDataSource)(nil)

// NewTemplateDiscoveryDataSource is the constructor of pve_template_discovery.
func NewTemplateDiscoveryDataSource() datasource.DataSource {
	return &templateDiscoveryDataSource{}
}

type templateDiscoveryDataSource struct{}

// templateDiscoveryModel is pve_template_discovery's data.
type templateDiscoveryModel struct {
	Path        types.String `tfsdk:"path"`
	Names       types.Set    `tfsdk:"names"`
	SkipInvalid types.Bool   `tfsdk:"skip_invalid"`
	Templates   types.Map    `tfsdk:"templates"`
	Warnings    types.List   `tfsdk:"warnings"`
}

func (d *templateDiscoveryDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_template_discovery"
}

func (d *templateDiscoveryDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Discovers and parses the LXC template directories under `path`: every direct " +
			"subdirectory that holds a `template.conf`. Each becomes a template spec — defaults, scripts, " +
			"packages and files — ready for `pve_lxc_template` or `pve_lxc_container`. Parsing never runs " +
			"anything it reads. Problems are reported with the file and line they come from.",
		Attributes: map[string]schema.Attribute{
			"path": schema.StringAttribute{
				MarkdownDescription: "Directory holding the template directories. A relative path is resolved " +
					"against the directory Terraform runs in, so `\"${path.module}/templates\"` works as expected. " +
					"Each spec's `source` is this path joined with the template's name: keep it relative, so the " +
					"same configuration checked out elsewhere (another CI runner) plans no change.",
				Required: true,
			},
			"names": schema.SetAttribute{
				MarkdownDescription: "Only these templates (directory names). Naming one that does not exist is an error.",
				Optional:            true,
				ElementType:         types.StringType,
			},
			"skip_invalid": schema.BoolAttribute{
				MarkdownDescription: "When `false` (the default) an invalid template is an error naming its file and " +
					"line. When `true` it is left out and reported as a warning instead.",
				Optional: true,
			},
			"templates": schema.MapAttribute{
				MarkdownDescription: "The valid templates, keyed by name: each a template spec, the JSON document " +
					"`pve_lxc_template.source_spec` and `pve_lxc_container.template` take (read a field with " +
					"`jsondecode(...)`, e.g. `jsondecode(data.pve_template_discovery.all.templates[\"web\"]).defaults.memory`). " +
					"It is compact: scripts and files carry digests, and their content is read from `source` at apply. " +
					"Its fields:\n\n" + specDocumentation(),
				Computed:    true,
				ElementType: types.StringType,
			},
			"warnings": schema.ListAttribute{
				MarkdownDescription: "Warnings as `file:line: message`, e.g. a file without a `.policy` sidecar or a skipped invalid template.",
				Computed:            true,
				ElementType:         types.StringType,
			},
		},
	}
}

func (d *templateDiscoveryDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var data templateDiscoveryModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var names []string
	if !data.Names.IsNull() {
		resp.Diagnostics.Append(data.Names.ElementsAs(ctx, &names, false)...)
	}
	root, err := filepath.Abs(data.Path.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("path"), "Invalid Template Path", err.Error())
		return
	}
	ctx = tflog.SetField(ctx, "path", root)
	tflog.Debug(ctx, "discovering templates")

	res, err := templatedir.Discover(root, templatedir.Options{Names: names})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("path"), "Cannot Read Template Directory",
			fmt.Sprintf("The directory %s could not be read: %v. Check that the path exists and is a directory.", root, err))
		return
	}
	for _, missing := range res.Missing {
		resp.Diagnostics.AddAttributeError(path.Root("names"), "Template Not Found",
			fmt.Sprintf("No template named %q exists under %s (a template is a subdirectory holding a template.conf).", missing, root))
	}

	warnings := problemStrings(res.Warnings)
	specs := map[string]types.String{}
	for _, tpl := range res.Templates {
		warnings = append(warnings, problemStrings(tpl.Warnings)...)
		if !tpl.Valid() {
			detail := fmt.Sprintf("Template %q has %d error(s):\n%s", tpl.Name, len(tpl.Errors), strings.Join(problemStrings(tpl.Errors), "\n"))
			if data.SkipInvalid.ValueBool() {
				resp.Diagnostics.AddWarning("Invalid Template Skipped", detail)
				warnings = append(warnings, problemStrings(tpl.Errors)...)
				continue
			}
			resp.Diagnostics.AddAttributeError(path.Root("path"), "Invalid Template",
				detail+"\n\nFix the files named above, or set skip_invalid = true to leave invalid templates out.")
			continue
		}
		spec := tpl.Spec
		spec.Source = filepath.Join(data.Path.ValueString(), tpl.Name) // as configured: relative stays relative
		doc, diags := specDocument(spec)
		resp.Diagnostics.Append(diags...)
		specs[tpl.Name] = doc
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if len(warnings) > 0 {
		resp.Diagnostics.AddWarning("Template Warnings", strings.Join(warnings, "\n"))
	}
	tflog.Debug(ctx, "discovered templates", map[string]any{"templates": len(specs), "warnings": len(warnings)})

	templates, diags := types.MapValueFrom(ctx, types.StringType, specs)
	resp.Diagnostics.Append(diags...)
	warningList, diags := types.ListValueFrom(ctx, types.StringType, warnings)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	data.Templates = templates
	data.Warnings = warningList
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

// problemStrings renders parser problems as "file:line: message".
func problemStrings(ps []templatedir.Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Error())
	}
	return out
}

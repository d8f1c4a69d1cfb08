package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

var (
	_ resource.ResourceWithImportState = (*packageBucketResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*packageBucketResource)(nil)
)

// NewPackageBucketResource is the constructor of pve_package_bucket.
func NewPackageBucketResource() resource.Resource {
	return &packageBucketResource{}
}

// packageBucketResource is state-only: Terraform state is the bucket store,
// so CRUD only validates and records what the configuration describes.
type packageBucketResource struct{}

type packageBucketModel struct {
	ID          types.String         `tfsdk:"id"`
	Name        types.String         `tfsdk:"name"`
	Description types.String         `tfsdk:"description"`
	SourceFile  types.String         `tfsdk:"source_file"`
	Package     []inlinePackageModel `tfsdk:"package"`
	Packages    types.List           `tfsdk:"packages"`
	SHA256      types.String         `tfsdk:"sha256"`
}

type inlinePackageModel struct {
	Manager types.String `tfsdk:"manager"`
	Spec    types.String `tfsdk:"spec"`
}

func (r *packageBucketResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_package_bucket"
}

func (r *packageBucketResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A named, validated, de-duplicated set of packages — inline `package` blocks and/or a " +
			"`<bucket>.<ext>` package file — for templates to merge. It lives in Terraform state only; a changed " +
			"source file shows as a difference in the plan.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The bucket name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Bucket name; every exported package row carries it.",
				Required:            true,
				Validators: []validator.String{stringvalidator.RegexMatches(bucketNameRE,
					"must be a bucket name: letters, digits, dot, dash and underscore")},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Free text.",
				Optional:            true,
			},
			"source_file": schema.StringAttribute{
				MarkdownDescription: "A package file such as `packages/web.apt`, parsed exactly like a template's " +
					"`container-configs/packages/` files; its extension gives the manager. Relative paths resolve " +
					"against the directory Terraform runs in.",
				Optional: true,
			},
			"packages": schema.ListNestedAttribute{
				MarkdownDescription: "Every package of the bucket, inline rows first, then the file's, without " +
					"duplicates; pass it to `pve_lxc_template.packages`.",
				Computed:     true,
				NestedObject: schema.NestedAttributeObject{Attributes: rAttributes(packageFieldsOf(), true)},
			},
			"sha256": schema.StringAttribute{
				MarkdownDescription: "Digest of `packages`.",
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"package": schema.ListNestedBlock{
				MarkdownDescription: "One package. `spec` is what gets installed, version pin included " +
					"(`nginx`, `jq=1.6-2`, `typescript@5.4.5`, `requests>=2.28`); for `custom` it is a whole " +
					"`name|check command|install command[|timeout]` line.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"manager": schema.StringAttribute{
							MarkdownDescription: "`apt`, `apk`, `dnf`, `npm`, `pip` or `custom`.",
							Required:            true,
							Validators:          []validator.String{stringvalidator.OneOf(templatedir.Managers()...)},
						},
						"spec": schema.StringAttribute{
							MarkdownDescription: "The package spec.",
							Required:            true,
						},
					},
				},
			},
		},
	}
}

var bucketNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// packageFieldsOf returns the field tree of one package row, shared with
// the template spec's packages so the two lists have the same type.
func packageFieldsOf() []specField {
	for _, f := range specFields {
		if f.name == "packages" {
			return f.children
		}
	}
	panic("specFields has no packages")
}

var packageObjectType = types.ObjectType{AttrTypes: attrTypesOf(packageFieldsOf())}

// bucketPackages validates and merges a bucket's inline rows and file.
func bucketPackages(m packageBucketModel) ([]templatedir.Package, diag.Diagnostics) {
	var diags diag.Diagnostics
	name := m.Name.ValueString()
	var inline []templatedir.Package
	for i, row := range m.Package {
		if !known(row.Manager) || !known(row.Spec) {
			continue
		}
		p, err := templatedir.ValidatePackageSpec(row.Manager.ValueString(), row.Spec.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("package").AtListIndex(i).AtName("spec"), "Invalid Package Spec", err.Error())
			continue
		}
		p.Manager = row.Manager.ValueString()
		p.Bucket = name
		inline = append(inline, p)
	}
	var fromFile []templatedir.Package
	if known(m.SourceFile) {
		file := m.SourceFile.ValueString()
		content, err := os.ReadFile(filepath.Clean(file))
		if err != nil {
			diags.AddAttributeError(path.Root("source_file"), "Cannot Read Package File", fmt.Sprintf("%s could not be read: %v.", file, err))
			return nil, diags
		}
		pkgs, probs := templatedir.ParsePackageFile(file, content)
		for _, p := range probs.Errors {
			diags.AddAttributeError(path.Root("source_file"), "Invalid Package File", p.Error())
		}
		for _, p := range probs.Warnings {
			diags.AddAttributeWarning(path.Root("source_file"), "Package File Warning", p.Error())
		}
		for _, p := range pkgs {
			p.Bucket = name
			fromFile = append(fromFile, p)
		}
	}
	if diags.HasError() {
		return nil, diags
	}
	merged, err := templatedir.MergePackages(inline, fromFile)
	var conflict *templatedir.PackageConflictError
	if errors.As(err, &conflict) {
		diags.AddError("Conflicting Package Versions", fmt.Sprintf(
			"Bucket %q lists %s package %s twice with different versions (%s and %s); keep one.",
			name, conflict.Manager, conflict.Name, conflict.First.Spec, conflict.Second.Spec))
		return nil, diags
	}
	return merged, diags
}

// packagesDigest identifies a list of package rows with the spec digest
// encoding (a spec holding only these packages).
func packagesDigest(pkgs []templatedir.Package) string {
	s := templatedir.Spec{Packages: pkgs}
	return s.ComputeDigest()
}

func packageList(ctx context.Context, pkgs []templatedir.Package) (types.List, diag.Diagnostics) {
	rows := make([]packageModel, 0, len(pkgs))
	for _, p := range pkgs {
		rows = append(rows, newPackageModel(p))
	}
	return types.ListValueFrom(ctx, packageObjectType, rows)
}

// ModifyPlan computes the bucket's rows at plan time, so a changed source
// file shows in the plan.
func (r *packageBucketResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan packageBucketModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !known(plan.Name) || plan.SourceFile.IsUnknown() || !inlineKnown(plan.Package) {
		return
	}
	resp.Diagnostics.Append(plan.fillRows(ctx)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func inlineKnown(rows []inlinePackageModel) bool {
	for _, r := range rows {
		if r.Manager.IsUnknown() || r.Spec.IsUnknown() {
			return false
		}
	}
	return true
}

func (r *packageBucketResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	saveFromPlan(ctx, req.Plan, &resp.State, &resp.Diagnostics, func(m *packageBucketModel) diag.Diagnostics { return m.fillRows(ctx) })
}

// Update records the plan; the rows are computed again in case an input
// was unknown at plan time.
func (r *packageBucketResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	saveFromPlan(ctx, req.Plan, &resp.State, &resp.Diagnostics, func(m *packageBucketModel) diag.Diagnostics { return m.fillRows(ctx) })
}

// fillRows computes the bucket's merged rows, their digest and its id from
// its inputs: at plan time, when it is recorded, and after an import.
func (m *packageBucketModel) fillRows(ctx context.Context) diag.Diagnostics {
	pkgs, diags := bucketPackages(*m)
	if diags.HasError() {
		return diags
	}
	list, d := packageList(ctx, pkgs)
	diags.Append(d...)
	m.Packages = list
	m.SHA256 = types.StringValue(packagesDigest(pkgs))
	m.ID = m.Name
	return diags
}

// Read keeps what was recorded: comparing it with the configuration's
// current rows is what makes a changed file show in the plan. Only an
// import, which has no rows yet, reads the file.
func (r *packageBucketResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state packageBucketModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !state.Packages.IsNull() {
		return
	}
	resp.Diagnostics.Append(state.fillRows(ctx)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *packageBucketResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ImportState takes a package file path: the bucket is named after the
// file ("packages/web.apt" → "web").
func (r *packageBucketResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	file := req.ID
	base := filepath.Base(file)
	ext := filepath.Ext(base)
	name := strings.TrimSuffix(base, ext)
	if name == "" || ext == "" {
		resp.Diagnostics.AddError("Unexpected Import Identifier",
			fmt.Sprintf("Import pve_package_bucket by the path of its package file, e.g. packages/web.apt; got %q.", file))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("source_file"), file)...)
}

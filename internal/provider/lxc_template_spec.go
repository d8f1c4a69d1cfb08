package provider

// How pve_lxc_template's finalised spec is made from its model: the source
// (a spec or a directory), the overrides and the buckets' packages.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// finalSpec builds the finalised spec from the model's source, overrides and
// packages. ok is false (without errors) when an input is not known yet.
func (m lxcTemplateModel) finalSpec(ctx context.Context) (spec templatedir.Spec, ok bool, diags diag.Diagnostics) {
	if m.Packages.IsUnknown() || m.Name.IsUnknown() || m.Description.IsUnknown() || m.Tags.IsUnknown() || m.OSTemplate.IsUnknown() ||
		m.OSTemplateSum.IsUnknown() {
		return spec, false, nil
	}
	spec, ok = m.sourceSpec(&diags)
	if !ok || diags.HasError() || !m.applyOverrides(ctx, &spec, &diags) || !m.mergePackages(ctx, &spec, &diags) {
		return spec, false, diags
	}
	if spec.OSTemplate == "" {
		diags.AddAttributeError(path.Root("os_template"), "Missing OS Image",
			"The template has no OS image: its source sets none, so set os_template (e.g. \"debian-12-standard\").")
		return spec, false, diags
	}
	checkChecksumApplies(m.OSTemplateSum, types.StringValue(spec.OSTemplate), &diags)
	if diags.HasError() {
		return spec, false, diags
	}
	spec.Sort()
	spec.SHA256 = spec.ComputeDigest()
	return spec, true, diags
}

// sourceSpec reads the spec the template starts from: source_spec or the
// directory source_dir names.
func (m lxcTemplateModel) sourceSpec(diags *diag.Diagnostics) (templatedir.Spec, bool) {
	switch {
	case m.SourceSpec.IsUnknown() || m.SourceDir.IsUnknown():
		return templatedir.Spec{}, false
	case !m.SourceSpec.IsNull():
		spec, d := specFromString(m.SourceSpec, path.Root("source_spec"))
		diags.Append(d...)
		return spec, true
	case known(m.SourceDir):
		tpl, err := templatedir.LoadTemplate(m.SourceDir.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("source_dir"), "Cannot Read Template Directory", err.Error())
			return templatedir.Spec{}, false
		}
		if !tpl.Valid() {
			diags.AddAttributeError(path.Root("source_dir"), "Invalid Template",
				fmt.Sprintf("Template %q has %d error(s):\n%s", tpl.Name, len(tpl.Errors), strings.Join(problemStrings(tpl.Errors), "\n")))
			return templatedir.Spec{}, false
		}
		spec := tpl.Spec
		spec.Source = filepath.Clean(m.SourceDir.ValueString()) // as configured: relative stays relative
		return spec, true
	}
	return templatedir.Spec{}, false
}

// applyOverrides replaces what the model overrides; false while an
// override is not known yet.
func (m lxcTemplateModel) applyOverrides(ctx context.Context, spec *templatedir.Spec, diags *diag.Diagnostics) bool {
	setString(&spec.Name, m.Name)
	setString(&spec.Description, m.Description)
	setString(&spec.OSTemplate, m.OSTemplate)
	if known(m.Tags) {
		var tags []string
		diags.Append(m.Tags.ElementsAs(ctx, &tags, false)...)
		spec.Tags = pveformat.NormalizeTags(tags)
	}
	o := m.Defaults
	if o == nil {
		return true
	}
	if !fullyKnownModel(o) {
		return false
	}
	d := &spec.Defaults
	setInt(&d.Cores, o.Cores)
	setInt(&d.Memory, o.Memory)
	setInt(&d.Swap, o.Swap)
	setInt(&d.DiskSize, o.DiskSize)
	setString(&d.Storage, o.Storage)
	setString(&d.Bridge, o.Bridge)
	setBool(&d.Unprivileged, o.Unprivileged)
	if f := o.Features; f != nil {
		setBool(&d.Features.Nesting, f.Nesting)
		setBool(&d.Features.Keyctl, f.Keyctl)
		setBool(&d.Features.Fuse, f.Fuse)
	}
	return true
}

// mergePackages adds the bucket packages after the source's own; the same
// package pinned twice is an error naming both buckets.
func (m lxcTemplateModel) mergePackages(ctx context.Context, spec *templatedir.Spec, diags *diag.Diagnostics) bool {
	if !known(m.Packages) {
		return true
	}
	var rows []packageModel
	diags.Append(m.Packages.ElementsAs(ctx, &rows, false)...)
	extra := make([]templatedir.Package, 0, len(rows))
	for _, r := range rows {
		extra = append(extra, packageFromModel(r))
	}
	merged, err := templatedir.MergePackages(spec.Packages, extra)
	var conflict *templatedir.PackageConflictError
	if errors.As(err, &conflict) {
		diags.AddAttributeError(path.Root("packages"), "Conflicting Package Versions", fmt.Sprintf(
			"%s package %s is pinned to %s by bucket %q and to %s by bucket %q; keep one version.",
			conflict.Manager, conflict.Name, conflict.First.Spec, conflict.First.Bucket, conflict.Second.Spec, conflict.Second.Bucket))
		return false
	}
	spec.Packages = merged
	return true
}

// fullyKnownModel reports whether every override is known (a null one
// keeps the source's default).
func fullyKnownModel(o *defaultsModel) bool {
	for _, v := range []interface{ IsUnknown() bool }{o.Cores, o.Memory, o.Swap, o.DiskSize, o.Storage, o.Bridge, o.Unprivileged} {
		if v.IsUnknown() {
			return false
		}
	}
	if f := o.Features; f != nil {
		return !f.Nesting.IsUnknown() && !f.Keyctl.IsUnknown() && !f.Fuse.IsUnknown()
	}
	return true
}

func setInt(dst *int64, v types.Int64) {
	if known(v) {
		*dst = v.ValueInt64()
	}
}

func setString(dst *string, v types.String) {
	if known(v) {
		*dst = v.ValueString()
	}
}

func setBool(dst *bool, v types.Bool) {
	if known(v) {
		*dst = v.ValueBool()
	}
}

package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// A spec travels in Terraform as one JSON document, in a string attribute:
// discovery's templates, pve_lxc_template's spec and a container's template.
// Terraform and the plugin framework handle a string as one value, so a
// fleet of containers built from one template plans about as fast as one of
// plain containers, where a nested object of every script and file would
// be walked value by value on every request; and Terraform shows a change
// inside a JSON string field by field, so a changed script shows as its
// digest changing. A spec written by hand is jsonencode({...}).

// specDocument is the spec's JSON document.
func specDocument(spec templatedir.Spec) (types.String, diag.Diagnostics) {
	var diags diag.Diagnostics
	doc, err := spec.JSON()
	if err != nil {
		diags.AddError("Unable to Encode Template Spec", fmt.Sprintf(
			"Template %q could not be written as JSON: %v. Please report this issue to the provider developers.", spec.Name, err))
		return types.StringUnknown(), diags
	}
	return types.StringValue(doc), diags
}

// specFromString reads a known spec document; at names the attribute in
// errors.
func specFromString(v types.String, at path.Path) (templatedir.Spec, diag.Diagnostics) {
	var diags diag.Diagnostics
	spec, err := templatedir.ParseJSON(v.ValueString())
	if err == nil {
		err = checkSpecDefaults(spec.Defaults)
	}
	if err != nil {
		diags.AddAttributeError(at, "Invalid Template Spec", fmt.Sprintf(
			"%v. Pass a spec from pve_template_discovery (templates[\"name\"]) or pve_lxc_template (spec), or write "+
				"one with jsonencode({ name = …, os_template = …, scripts = [ … ] }) using a spec's attribute names.", err))
	}
	return spec, diags
}

// checkSpecDefaults checks the defaults of a spec that reach Proxmox VE as
// they are: a spec written by hand (jsonencode) passes no template.conf
// parser, which checks them in discovery.
func checkSpecDefaults(d templatedir.Defaults) error {
	for _, v := range []struct {
		name, value string
		check       func(string) error
	}{{"storage", d.Storage, pveformat.ValidateStorageID}, {"bridge", d.Bridge, pveformat.ValidateBridgeName}} {
		if v.value == "" {
			continue
		}
		if err := v.check(v.value); err != nil {
			return fmt.Errorf("defaults.%s: %w", v.name, err)
		}
	}
	for _, n := range []struct {
		name        string
		value, high int64
	}{{"cores", d.Cores, maxCores}, {"memory", d.Memory, maxMemoryMiB}, {"swap", d.Swap, maxMemoryMiB}, {"disk_size", d.DiskSize, maxDiskGiB}} {
		if n.value < 0 || n.value > n.high {
			return fmt.Errorf("defaults.%s is %d, outside the range Proxmox VE takes (0 to %d)", n.name, n.value, n.high)
		}
	}
	return nil
}

// specJSON validates, at plan time, a string attribute that holds a spec.
func specJSON() validator.String { return specJSONValidator{} }

type specJSONValidator struct{}

func (specJSONValidator) Description(context.Context) string {
	return "must be a template spec: the JSON document pve_template_discovery and pve_lxc_template export"
}

func (v specJSONValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (specJSONValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !known(req.ConfigValue) {
		return
	}
	_, diags := specFromString(req.ConfigValue, req.Path)
	resp.Diagnostics.Append(diags...)
}

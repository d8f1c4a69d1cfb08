package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// An os_template may be an http(s) URL the node downloads (pveapi's
// EnsureOSImageWithChecksum); os_template_checksum, on pve_lxc_template and
// pve_lxc_container alike, is what Proxmox VE verifies the file against.

// osTemplateDescription documents os_template on both resources.
const osTemplateDescription = "an appliance name such as `debian-12-standard` (resolved on the node, downloaded " +
	"through its appliance index when missing), a volume id such as `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`, " +
	"or an `https://` (or `http://`) URL of a container template archive (`.tar`, `.tar.gz`, `.tar.xz`, `.tar.zst` or " +
	"`.tar.bz2`), which the node downloads once with Proxmox VE's download-url under the URL's file name (or the one the " +
	"server sends) and downloads again when it has been removed. Pin a URL's content with `os_template_checksum`."

// osTemplateChecksumAttribute is os_template_checksum's schema; more is
// what the resource adds to the description.
func osTemplateChecksumAttribute(more string) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "Checksum the OS image downloaded from an `os_template` URL must have: `sha256:<64 hex digits>` " +
			"or `sha512:<128 hex digits>`. Proxmox VE verifies the download, or the file of that name already on the node, " +
			"and refuses a mismatch; nothing is created then. Only for URL images. " + more,
		Optional:   true,
		Validators: []validator.String{imageChecksum()},
	}
}

// imageChecksum accepts what pveapi.ParseImageChecksum reads.
func imageChecksum() validator.String { return imageChecksumValidator{} }

type imageChecksumValidator struct{}

func (imageChecksumValidator) Description(context.Context) string {
	return "must be sha256:<64 hex digits> or sha512:<128 hex digits>"
}

func (v imageChecksumValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (imageChecksumValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if !known(req.ConfigValue) {
		return
	}
	if _, err := pveapi.ParseImageChecksum(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid OS Image Checksum", err.Error()+".")
	}
}

// checkChecksumApplies reports a checksum set for an OS image that is not
// a URL; osTemplate is the image the resource resolved (its own or its
// template's), checked once known.
func checkChecksumApplies(checksum types.String, osTemplate types.String, diags *diag.Diagnostics) {
	if !known(checksum) || checksum.ValueString() == "" || !known(osTemplate) || pveapi.IsImageURL(osTemplate.ValueString()) {
		return
	}
	diags.AddAttributeError(path.Root("os_template_checksum"), "Checksum Without an Image URL",
		fmt.Sprintf("os_template_checksum verifies an OS image downloaded from a URL, but the OS image is %q. "+
			"Set os_template to the image's https:// URL, or remove os_template_checksum.", osTemplate.ValueString()))
}

// ensureImage makes sure node has the OS image ref (downloading it when
// missing) and reports a failure on os_template, or on
// os_template_checksum for a checksum mismatch. storage is where a
// download goes ("" = the node's default).
func ensureImage(ctx context.Context, api *pveapi.Client, node, ref, storage string, checksum types.String, diags *diag.Diagnostics) (*pveapi.OSImage, bool) {
	sum, err := pveapi.ParseImageChecksum(checksum.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("os_template_checksum"), "Invalid OS Image Checksum", err.Error()+".")
		return nil, false
	}
	img, err := api.EnsureOSImageWithChecksum(ctx, node, ref, storage, sum)
	shown := ref
	if pveapi.IsImageURL(ref) {
		shown = pveapi.RedactURL(ref)
	}
	switch {
	case errors.Is(err, pveapi.ErrImageChecksumMismatch):
		diags.AddAttributeError(path.Root("os_template_checksum"), "OS Image Checksum Mismatch",
			fmt.Sprintf("Node %s did not get the OS image %q that os_template_checksum names: %v.", node, shown, err))
		return nil, false
	case err != nil:
		diags.AddAttributeError(path.Root("os_template"), "Cannot Provide the OS Image",
			fmt.Sprintf("The OS image %q could not be found or downloaded on node %s: %v", shown, node, err))
		return nil, false
	}
	addTaskWarnings(diags, "Downloading the OS image", img.Task)
	return img, true
}

package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// providerDataOf checks what Configure handed over. nil data (during
// validation, before the provider is configured) is not an error.
func providerDataOf(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected Resource Configure Type",
			fmt.Sprintf("Expected *providerData, got %T. Please report this issue to the provider developers.", data))
		return nil
	}
	return pd
}

// configureAPIResource is Configure for resources that call the Proxmox VE
// API: it reports at plan time when the provider has no endpoint.
func configureAPIResource(data any, typeName string, diags *diag.Diagnostics) *providerData {
	pd := providerDataOf(data, diags)
	if pd != nil && pd.API == nil {
		diags.AddError("Missing Proxmox VE API Endpoint",
			typeName+" manages objects through the Proxmox VE API, but the provider has no endpoint. Set endpoint and "+
				"credentials in the provider block, or the PVE_ENDPOINT and PVE_API_TOKEN (or PVE_USERNAME/PVE_PASSWORD) "+
				"environment variables.")
	}
	return pd
}

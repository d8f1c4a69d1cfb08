package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// checkConnection makes one GET /version (after a login, for password
// authentication) when the provider is configured, so that an unreachable
// endpoint, an untrusted certificate or rejected credentials are reported at
// plan time under their own titles, instead of as the first resource's
// error. It costs one request per Terraform command.
func checkConnection(ctx context.Context, api *pveapi.Client) diag.Diagnostics {
	var diags diag.Diagnostics
	v, err := api.Version(ctx)
	if err == nil {
		tflog.Debug(ctx, "reached Proxmox VE", map[string]any{"endpoint": api.Endpoint(), "version": v.Version})
		return diags
	}
	endpoint := api.Endpoint()

	if fingerprint, ok := pveapi.UntrustedCertificate(err); ok {
		presented := ""
		if fingerprint != "" {
			presented = fmt.Sprintf(" The server presented a certificate with the SHA-256 fingerprint %s; if the node's "+
				"certificate panel (Node → System → Certificates) shows the same, pin it with tls_fingerprint.", fingerprint)
		}
		diags.AddError("Proxmox VE's Certificate Is Not Trusted",
			fmt.Sprintf("The provider did not connect to %s because its TLS certificate could not be verified: %v.%s "+
				"Proxmox VE's own certificates are signed by the cluster's CA: trust it with ca_cert "+
				"(PVE_CA_CERT; /etc/pve/pve-root-ca.pem on a node), or pin the certificate with tls_fingerprint "+
				"(PVE_TLS_FINGERPRINT). Nothing was changed.", endpoint, err, presented))
		return diags
	}

	var apiErr *pveapi.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized {
		diags.AddError("Proxmox VE Rejected the Credentials",
			fmt.Sprintf("%s rejected the credentials of %s: %v. Check api_token (PVE_API_TOKEN), username and "+
				"password (PVE_USERNAME, PVE_PASSWORD) or auth_ticket and csrf_prevention_token, whichever is "+
				"configured: the token or user must exist, be enabled and not be expired. Nothing was changed.",
				endpoint, api.Identity(), err))
		return diags
	}

	advice := "Check that endpoint (PVE_ENDPOINT) is the address of a node's API (port 8006) and that it is reachable from here."
	var timeout *pveapi.TimeoutError
	if errors.As(err, &timeout) {
		advice = "If the server is only slow, raise connect_timeout or response_timeout (PVE_CONNECT_TIMEOUT, PVE_RESPONSE_TIMEOUT)."
	}
	diags.AddError("Cannot Reach Proxmox VE",
		fmt.Sprintf("The provider could not check its connection to the Proxmox VE API at %s: %v. %s Nothing was changed.",
			endpoint, err, advice))
	return diags
}

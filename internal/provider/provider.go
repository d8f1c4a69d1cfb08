// Package provider is the Terraform glue of the pve provider: schemas,
// models, CRUD handlers, plan modifiers and validators. Domain logic lives in
// the sibling packages; this package only translates between them and the
// Terraform plugin framework.
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ provider.Provider = (*pveProvider)(nil)

// New returns a constructor for the provider at the given version, the form
// providerserver and the acceptance-test factories expect.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &pveProvider{version: version}
	}
}

type pveProvider struct {
	version string
}

func (p *pveProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "pve"
	resp.Version = p.version
}

func (p *pveProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{}
}

func (p *pveProvider) Configure(_ context.Context, _ provider.ConfigureRequest, _ *provider.ConfigureResponse) {
}

func (p *pveProvider) Resources(_ context.Context) []func() resource.Resource {
	return nil
}

func (p *pveProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return nil
}

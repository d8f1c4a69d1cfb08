// Package provider is the Terraform glue of the pve provider: schemas,
// models, CRUD handlers, plan modifiers and validators. Domain logic lives in
// the sibling packages; this package only translates between them and the
// Terraform plugin framework.
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ provider.Provider                   = (*pveProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*pveProvider)(nil)
	_ provider.ProviderWithListResources  = (*pveProvider)(nil)
)

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

// providerModel is the provider block as Terraform sends it.
type providerModel struct {
	Endpoint            types.String `tfsdk:"endpoint"`
	APIToken            types.String `tfsdk:"api_token"`
	Username            types.String `tfsdk:"username"`
	Password            types.String `tfsdk:"password"`
	AuthTicket          types.String `tfsdk:"auth_ticket"`
	CSRFPreventionToken types.String `tfsdk:"csrf_prevention_token"`
	Insecure            types.Bool   `tfsdk:"insecure"`
	CACert              types.String `tfsdk:"ca_cert"`
	TLSFingerprint      types.String `tfsdk:"tls_fingerprint"`
	MinTLS              types.String `tfsdk:"min_tls"`
	MaxParallelRequests types.Int64  `tfsdk:"max_parallel_requests"`
	ConnectTimeout      types.String `tfsdk:"connect_timeout"`
	ResponseTimeout     types.String `tfsdk:"response_timeout"`
	// The nested settings are objects, not structs, because a dynamic block
	// or a variable can leave them unknown until plan.
	DefaultTimeouts types.Object `tfsdk:"default_timeouts"`
	SSH             types.Object `tfsdk:"ssh"`
}

// timeoutsModel holds the provider-wide defaults a resource's own timeouts
// block overrides.
type timeoutsModel struct {
	Create types.String `tfsdk:"create"`
	Read   types.String `tfsdk:"read"`
	Update types.String `tfsdk:"update"`
	Delete types.String `tfsdk:"delete"`
}

// sshModel is the ssh block: how to reach the nodes for provisioning.
type sshModel struct {
	Username              types.String `tfsdk:"username"`
	Password              types.String `tfsdk:"password"`
	PrivateKey            types.String `tfsdk:"private_key"`
	Agent                 types.Bool   `tfsdk:"agent"`
	AgentSocket           types.String `tfsdk:"agent_socket"`
	Port                  types.Int64  `tfsdk:"port"`
	KnownHosts            types.String `tfsdk:"known_hosts"`
	HostKey               types.String `tfsdk:"host_key"`
	InsecureIgnoreHostKey types.Bool   `tfsdk:"insecure_ignore_host_key"`
	Nodes                 types.List   `tfsdk:"node"`
}

// sshNodeModel maps one Proxmox VE node name to an SSH address.
type sshNodeModel struct {
	Name    types.String `tfsdk:"name"`
	Address types.String `tfsdk:"address"`
	Port    types.Int64  `tfsdk:"port"`
}

func (p *pveProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "pve"
	resp.Version = p.version
}

func (p *pveProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	durationValidators := []validator.String{durationString()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Turns LXC template directories into provisioned containers on Proxmox VE. " +
			"Every setting except `default_timeouts` and the `ssh` block's `node` entries can also come from a `PVE_*` " +
			"environment variable; where the bpg/proxmox provider has a variable for the same setting, its " +
			"`PROXMOX_VE_*` name is read as a fallback. Each attribute names its variables. A value written in the " +
			"configuration always wins.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "URL of the Proxmox VE API, e.g. `https://pve.example.com:8006`. Must use `https`. " +
					"Environment: `PVE_ENDPOINT`, `PROXMOX_VE_ENDPOINT`.",
				Optional: true,
			},
			"api_token": schema.StringAttribute{
				MarkdownDescription: "API token in the form `user@realm!tokenid=secret`. Tokens never satisfy PVE's " +
					"root@pam-only rules (e.g. the `keyctl`, `fuse`, `mknod` and `mount` container features); use " +
					"`username`/`password` of `root@pam` for those. Environment: `PVE_API_TOKEN`, `PROXMOX_VE_API_TOKEN`.",
				Optional:  true,
				Sensitive: true,
			},
			"username": schema.StringAttribute{
				MarkdownDescription: "User for ticket authentication, e.g. `root@pam`. Requires `password`. " +
					"Environment: `PVE_USERNAME`, `PROXMOX_VE_USERNAME`.",
				Optional: true,
			},
			"password": schema.StringAttribute{
				MarkdownDescription: "Password of `username`. The provider logs in once, renews the ticket before its " +
					"two-hour lifetime ends and logs in again once on a 401. Environment: `PVE_PASSWORD`, `PROXMOX_VE_PASSWORD`.",
				Optional:  true,
				Sensitive: true,
			},
			"auth_ticket": schema.StringAttribute{
				MarkdownDescription: "A pre-issued authentication ticket (`PVE:user@realm:…`). Requires " +
					"`csrf_prevention_token`. It cannot be renewed, so it must outlive the run. " +
					"Environment: `PVE_AUTH_TICKET`, `PROXMOX_VE_AUTH_TICKET`.",
				Optional:  true,
				Sensitive: true,
			},
			"csrf_prevention_token": schema.StringAttribute{
				MarkdownDescription: "The CSRF prevention token issued with `auth_ticket`. Environment: " +
					"`PVE_CSRF_PREVENTION_TOKEN`, `PROXMOX_VE_CSRF_PREVENTION_TOKEN`.",
				Optional:  true,
				Sensitive: true,
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip TLS certificate verification. Off by default, and warned about when on; " +
					"prefer `ca_cert` or `tls_fingerprint` for self-signed certificates. Cannot be combined with either. " +
					"Environment: `PVE_INSECURE`, `PROXMOX_VE_INSECURE`.",
				Optional: true,
			},
			"ca_cert": schema.StringAttribute{
				MarkdownDescription: "PEM certificate(s) of a CA to trust in addition to the system roots, e.g. " +
					"`file(\"pve-root-ca.pem\")`. Environment: `PVE_CA_CERT` (PEM text or a path to a PEM file); " +
					"bpg/proxmox has no equivalent variable.",
				Optional: true,
			},
			"tls_fingerprint": schema.StringAttribute{
				MarkdownDescription: "Pin the server certificate by its SHA-256 fingerprint, in the colon-separated " +
					"form the Proxmox VE UI shows (`AB:CD:…`). When pinned, the certificate need not chain to a " +
					"trusted CA. Environment: `PVE_TLS_FINGERPRINT`; bpg/proxmox has no equivalent variable.",
				Optional: true,
			},
			"min_tls": schema.StringAttribute{
				MarkdownDescription: "Lowest TLS version to accept: `1.2` (default) or `1.3`. Environment: " +
					"`PVE_MIN_TLS`, `PROXMOX_VE_MIN_TLS`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf("1.2", "1.3")},
			},
			"max_parallel_requests": schema.Int64Attribute{
				MarkdownDescription: "Most API requests the provider has in flight at once (default 8). " +
					"Environment: `PVE_MAX_PARALLEL_REQUESTS`; bpg/proxmox has no equivalent variable.",
				Optional:   true,
				CustomType: wholeNumber(),
				Validators: []validator.Int64{int64validator.Between(1, 256)},
			},
			"connect_timeout": schema.StringAttribute{
				MarkdownDescription: "How long opening a connection to the API may take, as a Go duration: the TCP " +
					"connect and, separately, the TLS handshake (default `15s`). A server that accepts connections but " +
					"never completes TLS fails after this long, naming the cause; it is not retried. " +
					"Environment: `PVE_CONNECT_TIMEOUT`.",
				Optional:   true,
				Validators: durationValidators,
			},
			"response_timeout": schema.StringAttribute{
				MarkdownDescription: "How long the provider waits for the response headers of one API request once it " +
					"is sent, and then again for the rest of the answer, as a Go duration (default `60s`). Long " +
					"operations answer at once with a task that is " +
					"waited for separately, under the resource's `timeouts`; only synchronous calls count here, the " +
					"slowest being a configuration change that allocates a large mount point on slow storage. A server " +
					"that never answers fails after this long, naming the cause; it is not retried. " +
					"Environment: `PVE_RESPONSE_TIMEOUT`.",
				Optional:   true,
				Validators: durationValidators,
			},
			"default_timeouts": schema.SingleNestedAttribute{
				MarkdownDescription: "Default operation timeouts for resources that do not set their own " +
					"`timeouts` block, as Go durations (`30m`, `90s`).",
				Optional: true,
				Attributes: map[string]schema.Attribute{
					"create": schema.StringAttribute{MarkdownDescription: "Default create timeout (default `30m`).", Optional: true, Validators: durationValidators},
					"read":   schema.StringAttribute{MarkdownDescription: "Default read timeout (default `5m`).", Optional: true, Validators: durationValidators},
					"update": schema.StringAttribute{MarkdownDescription: "Default update timeout (default `30m`).", Optional: true, Validators: durationValidators},
					"delete": schema.StringAttribute{MarkdownDescription: "Default delete timeout (default `10m`).", Optional: true, Validators: durationValidators},
				},
			},
		},
		Blocks: map[string]schema.Block{
			"ssh": sshBlockSchema(),
		},
	}
}

func sshBlockSchema() schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "SSH access to the nodes, needed only to provision containers (`pct exec` runs " +
			"there). Without it containers are still created, configured and started through the API. " +
			"Host keys are verified by default.",
		Attributes: map[string]schema.Attribute{
			"username": schema.StringAttribute{
				MarkdownDescription: "SSH user on the nodes (default `root`; `pct` needs root). Environment: `PVE_SSH_USERNAME`, `PROXMOX_VE_SSH_USERNAME`.",
				Optional:            true,
			},
			"password": schema.StringAttribute{
				MarkdownDescription: "SSH password. Environment: `PVE_SSH_PASSWORD`, `PROXMOX_VE_SSH_PASSWORD`.",
				Optional:            true,
				Sensitive:           true,
			},
			"private_key": schema.StringAttribute{
				MarkdownDescription: "Unencrypted private key (PEM or OpenSSH format), e.g. `file(\"~/.ssh/id_ed25519\")`. Environment: `PVE_SSH_PRIVATE_KEY`, `PROXMOX_VE_SSH_PRIVATE_KEY`.",
				Optional:            true,
				Sensitive:           true,
			},
			"agent": schema.BoolAttribute{
				MarkdownDescription: "Authenticate with the keys of a running ssh-agent. Environment: `PVE_SSH_AGENT`, `PROXMOX_VE_SSH_AGENT`.",
				Optional:            true,
			},
			"agent_socket": schema.StringAttribute{
				MarkdownDescription: "Path of the ssh-agent socket (default `$SSH_AUTH_SOCK`). Environment: `PVE_SSH_AGENT_SOCKET`, `PROXMOX_VE_SSH_AUTH_SOCK`.",
				Optional:            true,
			},
			"port": schema.Int64Attribute{
				MarkdownDescription: "SSH port of the nodes (default 22). Environment: `PVE_SSH_PORT`; bpg/proxmox has no equivalent variable.",
				Optional:            true,
				CustomType:          wholeNumber(),
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
			},
			"known_hosts": schema.StringAttribute{
				MarkdownDescription: "Path of an OpenSSH `known_hosts` file to verify host keys with (default `~/.ssh/known_hosts` when no `host_key` is set). Environment: `PVE_SSH_KNOWN_HOSTS`; bpg/proxmox has no equivalent variable.",
				Optional:            true,
			},
			"host_key": schema.StringAttribute{
				MarkdownDescription: "Pinned host key in authorized_keys form (`ssh-ed25519 AAAA…`), the form `terraform-provider-pve simulate` prints. Several keys may be given, one per line. Environment: `PVE_SSH_HOST_KEY`; bpg/proxmox has no equivalent variable.",
				Optional:            true,
			},
			"insecure_ignore_host_key": schema.BoolAttribute{
				MarkdownDescription: "Do not verify host keys. An explicit opt-out, warned about on every use. Environment: `PVE_SSH_INSECURE_IGNORE_HOST_KEY`; bpg/proxmox has no equivalent variable.",
				Optional:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"node": schema.ListNestedBlock{
				MarkdownDescription: "Where to reach a node by SSH; nodes without an entry are dialled by their name.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{
							MarkdownDescription: "Proxmox VE node name, as in `/nodes`.",
							Required:            true,
						},
						"address": schema.StringAttribute{
							MarkdownDescription: "Host name or IP address to dial.",
							Required:            true,
						},
						"port": schema.Int64Attribute{
							MarkdownDescription: "SSH port of this node (default: the block's `port`).",
							Optional:            true,
							CustomType:          wholeNumber(),
							Validators:          []validator.Int64{int64validator.Between(1, 65535)},
						},
					},
				},
				Validators: []validator.List{listvalidator.UniqueValues()},
			},
		},
	}
}

// ValidateConfig reports the problems visible in the configuration alone;
// Configure repeats the checks once environment variables are merged in.
func (p *pveProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var insecure types.Bool
	var caCert, fingerprint types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("insecure"), &insecure)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("ca_cert"), &caCert)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("tls_fingerprint"), &fingerprint)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if insecure.ValueBool() && (known(caCert) || known(fingerprint)) {
		resp.Diagnostics.AddAttributeError(path.Root("insecure"), "Conflicting TLS Settings",
			"insecure = true turns certificate verification off, while ca_cert or tls_fingerprint asks for it to be done a particular way. Remove insecure, or remove ca_cert and tls_fingerprint.")
	}
}

func (p *pveProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	data, diags := configureProvider(ctx, req.Config, p.version, osEnv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if data.API != nil {
		resp.Diagnostics.Append(checkConnection(data.logContext(ctx), data.API)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.ListResourceData = data
}

func (p *pveProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewContainerResource,
		NewPackageBucketResource,
		NewLXCTemplateResource,
		NewLXCSnapshotResource,
	}
}

// ListResources are what `terraform query` (Terraform 1.14 and later)
// lists to import.
func (p *pveProvider) ListResources(_ context.Context) []func() list.ListResource {
	return []func() list.ListResource{
		NewContainerListResource,
	}
}

func (p *pveProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewTemplateDiscoveryDataSource,
	}
}

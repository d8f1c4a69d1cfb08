package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	tagRE      = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_+.-]*$`)
)

func (r *containerResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Version: specStateVersion,
		MarkdownDescription: "An LXC container on a Proxmox VE node, created from an OS image and, optionally, a " +
			"template spec whose defaults it takes unless it overrides them. Everything Proxmox VE can change on " +
			"a live container is updated in place; only the OS image, `unprivileged` and the storages replace the " +
			"container. A smaller disk or mount point is an error at plan time (Proxmox VE cannot shrink a volume), " +
			"and so is a storage that cannot hold container volumes. A container removed outside Terraform drops out of state.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<node>/<vmid>`, also the import ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"node": schema.StringAttribute{
				MarkdownDescription: "Proxmox VE node the container runs on. Changing it replaces the container.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{stringvalidator.RegexMatches(hostnameRE,
					"must be a Proxmox VE node name: letters, digits and inner hyphens")},
			},
			"vmid": schema.Int64Attribute{
				MarkdownDescription: "Container ID. Allocated from `/cluster/nextid` when not set; parallel " +
					"creates never collide. Changing it replaces the container.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.Int64{
					int64planmodifier.UseStateForUnknown(),
					int64planmodifier.RequiresReplaceIfConfigured(),
				},
				CustomType: wholeNumber(),
				Validators: []validator.Int64{int64validator.Between(minVMID, maxVMID)},
			},
			"hostname": schema.StringAttribute{
				MarkdownDescription: "Host name: a DNS label of at most 63 characters. Defaults to the template's " +
					"name when that is a valid label, else Proxmox VE's `CT<vmid>`. The plan of a new container warns " +
					"when another container of the cluster already has the name (perhaps one an interrupted apply " +
					"left behind), with the `terraform import` command to adopt it.",
				Optional: true,
				Computed: true,
				Validators: []validator.String{stringvalidator.RegexMatches(hostnameRE,
					"must be a DNS label: 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen")},
			},
			"template": schema.StringAttribute{
				MarkdownDescription: "Template spec the container is built from: the JSON document of " +
					"`pve_lxc_template.web.spec` or `data.pve_template_discovery.all.templates[\"web\"]` " +
					"(a spec written by hand is `jsonencode({...})` with a spec's attribute names). Its defaults " +
					"apply to every setting the container does not set itself. A plan shows a change inside it " +
					"field by field, e.g. a changed script as its `sha256` changing. When it carries a golden image " +
					"(the spec of a `pve_lxc_template` with an `image` block), a new container is cloned from the " +
					"image and runs only its own part of provisioning; see the guide \"Golden images\".",
				Optional:   true,
				Validators: []validator.String{specJSON()},
			},
			"os_template": schema.StringAttribute{
				MarkdownDescription: "OS image: " + osTemplateDescription + " Taken from the template when not " +
					"set. Changing it replaces the container; spelling the same image differently does not.",
				Optional:   true,
				Computed:   true,
				CustomType: normalizedStringType{normalizer: normalizeOSTemplate},
			},
			"os_template_checksum": osTemplateChecksumAttribute("Also for a URL the container takes from its template. " +
				"Changing it to another checksum replaces the container (it was built from another image); setting or " +
				"removing it does not."),
			"cores": schema.Int64Attribute{
				MarkdownDescription: "CPU cores (1–8192). Default: the template's, else all host cores.",
				Optional:            true,
				Computed:            true,
				CustomType:          wholeNumber(),
				Validators:          []validator.Int64{int64validator.Between(1, maxCores)},
			},
			"cpulimit": schema.Float64Attribute{
				MarkdownDescription: "CPU time limit in cores (0–8192, 0 = unlimited).",
				Optional:            true,
				Computed:            true,
				Validators:          []validator.Float64{float64validator.Between(0, maxCPULimit)},
			},
			"memory": schema.Int64Attribute{
				MarkdownDescription: "Memory in MiB (16–8796093022207). Default: the template's, else 512.",
				Optional:            true,
				Computed:            true,
				CustomType:          wholeNumber(),
				Validators:          []validator.Int64{int64validator.Between(minMemoryMiB, maxMemoryMiB)},
			},
			"swap": schema.Int64Attribute{
				MarkdownDescription: "Swap in MiB (0–8796093022207). Default: the template's, else 512.",
				Optional:            true,
				Computed:            true,
				CustomType:          wholeNumber(),
				Validators:          []validator.Int64{int64validator.Between(0, maxMemoryMiB)},
			},
			"disk_size": schema.Float64Attribute{
				MarkdownDescription: "Root filesystem size in GiB (0.1–8589934591). Growing it resizes the disk in place; " +
					"Proxmox VE cannot shrink a volume, so a smaller size is an error at plan time (to rebuild the " +
					"container with a smaller disk on purpose, `terraform taint` it first). Default: the template's, else 4.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.Float64{float64validator.Between(minDiskGiB, float64(maxDiskGiB))},
			},
			"storage": schema.StringAttribute{
				MarkdownDescription: "Storage of the root filesystem; it must hold container volumes (`rootdir` " +
					"content), which the plan checks. Default: the template's, else the node's first storage that " +
					"holds container volumes. Changing it replaces the container.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{storageID()},
			},
			"unprivileged": schema.BoolAttribute{
				MarkdownDescription: "Run the container in a user namespace. Default: the template's, else " +
					"`true`. Changing it replaces the container.",
				Optional: true,
				Computed: true,
			},
			"features": featuresAttribute(),
			"network":  networkAttribute(),
			"nameserver": schema.StringAttribute{
				MarkdownDescription: "DNS servers, space-separated. Unset: the node's settings.",
				Optional:            true,
			},
			"searchdomain": schema.StringAttribute{
				MarkdownDescription: "DNS search domains. Unset: the node's settings.",
				Optional:            true,
			},
			"ssh_public_keys": schema.StringAttribute{
				MarkdownDescription: "Public keys for root's `authorized_keys`, one per line, installed at creation.",
				Optional:            true,
			},
			"password": schema.StringAttribute{
				MarkdownDescription: "Root password set at creation (at least 5 characters). Stored in state; prefer `password_wo`.",
				Optional:            true,
				Sensitive:           true,
				Validators: []validator.String{
					stringvalidator.LengthAtLeast(5),
					stringvalidator.ConflictsWith(path.MatchRoot("password_wo")),
				},
			},
			"password_wo": schema.StringAttribute{
				MarkdownDescription: "Root password set at creation, never stored in state (Terraform 1.11 or later). " +
					"Change `password_wo_version` to make a new value count.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(5)},
			},
			"password_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Any whole number; changing it tells the provider that `password_wo` changed.",
				Optional:            true,
				CustomType:          wholeNumber(),
				Validators:          []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("password_wo"))},
			},
			"tags": schema.SetAttribute{
				MarkdownDescription: "Tags. Proxmox VE stores them lower-cased and sorted; case and order never " +
					"cause a difference. Default: the template's.",
				Optional:    true,
				Computed:    true,
				CustomType:  newTagSetType(),
				ElementType: types.StringType,
				Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(tagRE,
					"must start with a letter, digit or underscore and contain only letters, digits and _ - + ."))},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "Notes shown in the Proxmox VE UI (at most 8192 characters). Default: the template's description.",
				Optional:            true,
				Computed:            true,
				CustomType:          normalizedStringType{normalizer: normalizeDescriptionText},
				Validators:          []validator.String{stringvalidator.LengthAtMost(8192)},
			},
			"onboot": schema.BoolAttribute{
				MarkdownDescription: "Start the container when the node boots.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"startup": startupAttribute(),
			"started": schema.BoolAttribute{
				MarkdownDescription: "Whether the container runs. A container stopped outside Terraform is started again.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"reboot_on_pending": schema.BoolAttribute{
				MarkdownDescription: "Reboot a running container when an update leaves changes that apply only at the next start (e.g. features, mount point options).",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
			},
			"mount_points": mountPointsAttribute(),
			"ipv4": schema.StringAttribute{
				MarkdownDescription: "First IPv4 address of the running container (from the API, not from inside it).",
				Computed:            true,
			},
			"ipv6": schema.StringAttribute{
				MarkdownDescription: "First global IPv6 address of the running container.",
				Computed:            true,
			},
			"mac_addresses": schema.ListAttribute{
				MarkdownDescription: "MAC address of each interface, in `network` order.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`running` or `stopped`.",
				Computed:            true,
			},
			"provisioned": schema.MapAttribute{
				MarkdownDescription: "What provisioning applied: step (`package:<manager>:<bucket>`, `script:<name>`, " +
					"`file:<path>`) → digest. A refresh of a running container replaces the digests of managed " +
					"`replace`/`backup` files and packages with what it finds, so drift shows in the plan and the " +
					"next apply repairs it.",
				Computed:    true,
				ElementType: types.StringType,
			},
			"services": schema.ListNestedAttribute{
				MarkdownDescription: "Services found running in the container (besides the base system's), with the TCP port they listen on.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{MarkdownDescription: "systemd unit name, without `.service`.", Computed: true},
					"port": schema.Int64Attribute{MarkdownDescription: "TCP port (0 when it listens on none).", Computed: true},
					"url":  schema.StringAttribute{MarkdownDescription: "`http://<ipv4>:<port>`; empty when it listens on loopback only.", Computed: true},
				}},
			},
			"credentials": schema.MapAttribute{
				MarkdownDescription: "Credentials the template's scripts saved with `save_credential`: service → KEY → VALUE " +
					"(from `/etc/lxctm/credentials/<service>` in the container).",
				Computed:    true,
				Sensitive:   true,
				ElementType: types.MapType{ElemType: types.StringType},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
			"provisioning": schema.SingleNestedBlock{
				MarkdownDescription: "Provisioning inside the container: the template's packages, scripts and files, " +
					"applied over SSH with one `pct exec` per run. On by default when the container has a template and " +
					"the provider has an `ssh` block.",
				Attributes: map[string]schema.Attribute{
					"enabled": schema.BoolAttribute{
						MarkdownDescription: "Provision the container (default: `true` when there is a template and SSH access).",
						Optional:            true,
					},
					"rerun": schema.StringAttribute{
						MarkdownDescription: "On update: `changed` (default) applies new and changed packages, scripts and " +
							"`replace`/`backup` files; `all` runs every step again whenever something changed; `never` " +
							"provisions only at creation.",
						Optional:   true,
						Validators: []validator.String{stringvalidator.OneOf("changed", "all", "never")},
					},
					"rollback_on_failure": rollbackOnFailureAttribute(),
				},
			},
		},
	}
}

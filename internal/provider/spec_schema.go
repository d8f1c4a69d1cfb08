package provider

import (
	"fmt"
	"strings"

	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The template spec's fields are described once, here, as a tree. A spec
// travels in Terraform as one JSON document (templatedir.Spec's JSON); this
// tree documents that document in every schema that carries it, and
// renders the package rows that pve_package_bucket exports and
// pve_lxc_template takes as nested attributes.

type specFieldKind int

const (
	specString specFieldKind = iota
	specInt
	specBool
	specStringList
	specNested
	specObjectList
)

type specField struct {
	name     string
	desc     string
	kind     specFieldKind
	children []specField
}

var specFields = []specField{
	{name: "name", kind: specString, desc: "Template name: its directory name."},
	{name: "app_name", kind: specString, desc: "Display name (`TEMPLATE_APP`); the directory name when unset."},
	{name: "description", kind: specString, desc: "Free text (`TEMPLATE_DESCRIPTION`)."},
	{name: "tags", kind: specStringList, desc: "Tags as Proxmox VE stores them: lower-case, unique, sorted."},
	{name: "os_template", kind: specString, desc: "OS image: an appliance name such as `debian-12-standard`, a volume id such as " +
		"`local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`, or an `https://` URL of a template archive the node downloads " +
		"(its checksum is set on the resource: `os_template_checksum`)."},
	{name: "config_path", kind: specString, desc: "`TEMPLATE_CONFIG_PATH`, kept for information; files are always read relative to the template directory."},
	{name: "source", kind: specString, desc: "Template directory the scripts' and files' content is read from when a container is provisioned, " +
		"as the configuration named it (a relative path stays relative, so another checkout plans no change). Specs from " +
		"discovery and `pve_lxc_template` carry digests, not content; an apply reads the content from here and refuses " +
		"to run anything that differs from the planned digests. Empty for a spec whose content is written inline."},
	{name: "defaults", kind: specNested, desc: "Container settings a container gets unless it overrides them.", children: []specField{
		{name: "cores", kind: specInt, desc: "CPU cores."},
		{name: "memory", kind: specInt, desc: "Memory in MiB."},
		{name: "swap", kind: specInt, desc: "Swap in MiB."},
		{name: "disk_size", kind: specInt, desc: "Root filesystem size in GiB."},
		{name: "storage", kind: specString, desc: "Storage for the root filesystem; empty when the template does not say."},
		{name: "bridge", kind: specString, desc: "Network bridge; empty when the template does not say."},
		{name: "unprivileged", kind: specBool, desc: "Whether the container runs unprivileged (user namespace)."},
		{name: "features", kind: specNested, desc: "LXC features the template needs.", children: []specField{
			{name: "nesting", kind: specBool, desc: "Allow nested containers."},
			{name: "keyctl", kind: specBool, desc: "Allow the keyctl() system call."},
			{name: "fuse", kind: specBool, desc: "Allow FUSE file systems."},
		}},
	}},
	{name: "scripts", kind: specObjectList, desc: "Setup scripts in run order.", children: []specField{
		{name: "name", kind: specString, desc: "File name, e.g. `10-create-user.sh`."},
		{name: "order", kind: specInt, desc: "Numeric prefix of the name; unnumbered scripts sort after all numbered ones."},
		{name: "content", kind: specString, desc: "Script text, only in a spec written inline (no `source`); null in specs from discovery and `pve_lxc_template`."},
		{name: "sha256", kind: specString, desc: "SHA-256 of the content: what a plan shows changing when the script changes."},
		{name: "enabled", kind: specBool, desc: "Whether the script runs."},
	}},
	{name: "packages", kind: specObjectList, desc: "Packages to install, by bucket.", children: []specField{
		{name: "bucket", kind: specString, desc: "Bucket name (the package file's base name)."},
		{name: "manager", kind: specString, desc: "Package manager: `apt`, `apk`, `dnf`, `npm`, `pip` or `custom`."},
		{name: "spec", kind: specString, desc: "What gets installed, exactly as written, version pin included; the name for `custom` rows."},
		{name: "name", kind: specString, desc: "Package name split from `spec`."},
		{name: "version", kind: specString, desc: "Version split from `spec`; empty when there is none or it cannot be split."},
		{name: "check", kind: specString, desc: "`custom` only: command whose success means the package is installed."},
		{name: "install", kind: specString, desc: "`custom` only: install command."},
		{name: "timeout", kind: specInt, desc: "`custom` only: install timeout in seconds (0 = none)."},
	}},
	{name: "files", kind: specObjectList, desc: "Config files written after the scripts.", children: []specField{
		{name: "name", kind: specString, desc: "File name; the file is written to `target_path/name`."},
		{name: "target_path", kind: specString, desc: "Absolute target directory (from the `.path` sidecar)."},
		{name: "policy", kind: specString, desc: "`replace`, `default` (write only if missing) or `backup` (keep a timestamped copy of a differing target)."},
		{name: "mode", kind: specString, desc: "File mode, `0755` or `0644`."},
		{name: "content", kind: specString, desc: "Content when it is UTF-8 text, only in a spec written inline (no `source`)."},
		{name: "content_base64", kind: specString, desc: "Base64 content when the file is binary, only in a spec written inline (no `source`)."},
		{name: "sha256", kind: specString, desc: "SHA-256 of the raw content: what a plan shows changing when the file changes."},
	}},
	{name: "sha256", kind: specString, desc: "Digest of the whole spec; it changes whenever anything that would be applied to a container changes."},
	{name: "image", kind: specNested, desc: "The golden image `pve_lxc_template` built from this spec (its `image` block), which containers are " +
		"cloned from; absent without one. Not part of `sha256`.", children: []specField{
		{name: "node", kind: specString, desc: "Node the image lives on."},
		{name: "vmid", kind: specInt, desc: "VMID of the image (a Proxmox VE template)."},
		{name: "storage", kind: specString, desc: "Storage of the image's root filesystem."},
		{name: "shared", kind: specBool, desc: "Whether that storage is shared, so containers on other nodes can be cloned from it."},
		{name: "clone", kind: specString, desc: "`linked` or `full`: how containers are cloned from it."},
		{name: "rerun", kind: specStringList, desc: "Provisioning steps each clone runs again: those that saved credentials while the image was built."},
	}},
}

// specDocumentation renders the spec's fields as a Markdown list, for the
// descriptions of the attributes that hold a spec document.
func specDocumentation() string {
	var b strings.Builder
	writeSpecFields(&b, specFields, "")
	return b.String()
}

func writeSpecFields(b *strings.Builder, fields []specField, indent string) {
	for _, f := range fields {
		fmt.Fprintf(b, "%s- `%s` (%s) %s\n", indent, f.name, f.kind.jsonType(), f.desc)
		writeSpecFields(b, f.children, indent+"  ")
	}
}

// jsonType names a field's JSON type in the documentation.
func (k specFieldKind) jsonType() string {
	switch k {
	case specInt:
		return "number"
	case specBool:
		return "boolean"
	case specStringList:
		return "list of strings"
	case specNested:
		return "object"
	case specObjectList:
		return "list of objects"
	}
	return "string"
}

// rAttributes renders fields as resource attributes: computed (an
// exported value) or optional (a value the configuration passes in).
func rAttributes(fields []specField, computed bool) map[string]rschema.Attribute {
	optional := !computed
	out := make(map[string]rschema.Attribute, len(fields))
	for _, f := range fields {
		switch f.kind {
		case specString:
			out[f.name] = rschema.StringAttribute{MarkdownDescription: f.desc, Computed: computed, Optional: optional}
		case specInt:
			out[f.name] = rschema.Int64Attribute{MarkdownDescription: f.desc, Computed: computed, Optional: optional, CustomType: wholeNumber()}
		case specBool:
			out[f.name] = rschema.BoolAttribute{MarkdownDescription: f.desc, Computed: computed, Optional: optional}
		case specStringList:
			out[f.name] = rschema.ListAttribute{MarkdownDescription: f.desc, Computed: computed, Optional: optional, ElementType: types.StringType}
		case specNested:
			out[f.name] = rschema.SingleNestedAttribute{MarkdownDescription: f.desc, Computed: computed, Optional: optional, Attributes: rAttributes(f.children, computed)}
		case specObjectList:
			out[f.name] = rschema.ListNestedAttribute{MarkdownDescription: f.desc, Computed: computed, Optional: optional,
				NestedObject: rschema.NestedAttributeObject{Attributes: rAttributes(f.children, computed)}}
		}
	}
	return out
}

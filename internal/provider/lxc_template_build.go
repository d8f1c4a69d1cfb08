package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/lxctm/terraform-provider-pve/internal/lxcconf"
	"github.com/lxctm/terraform-provider-pve/internal/provision"
	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Building a golden image: create a container from the OS image with the
// template's defaults, provision it with the whole spec in one agent run,
// generalise it, stop it and convert it to a Proxmox VE template. The
// container is driven with pve_lxc_container's own phases (start,
// provision, shutdown), since it is one.

// imageBuild is what one build needs.
type imageBuild struct {
	node    string
	spec    templatedir.Spec // finalised; content is loaded by the build
	osImage string           // volid of the OS image on node
	block   imageModel       // the image block as planned
}

// imageBuilt is the outcome of a build: the image, or the VMID of a
// container the build could not remove after failing (0 for none).
type imageBuilt struct {
	image    *templatedir.Image
	leftover int64
}

// buildImage builds a golden image. On failure it destroys what it made;
// a container it could not destroy is returned as leftover, for the
// caller to keep track of.
func (r *lxcTemplateResource) buildImage(ctx context.Context, b imageBuild) (out imageBuilt, diags diag.Diagnostics) {
	spec, err := templatedir.LoadContent(b.spec)
	if err != nil {
		diags.AddError("Cannot Read the Template's Content", fmt.Sprintf(
			"%v. The golden image is provisioned with the template's scripts and files, read from its source directory "+
				"(relative to the directory Terraform runs in) and checked against the planned digests; run terraform plan "+
				"again if the template changed since the plan.", err))
		return out, diags
	}
	storage, err := r.imageStorage(ctx, b)
	if err != nil {
		diags.AddAttributeError(path.Root("image").AtName("storage"), "No Storage for the Golden Image", err.Error())
		return out, diags
	}
	clone, err := cloneMode(storage, b.block.Clone.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("image").AtName("clone"), "Linked Clones Not Possible", err.Error())
		return out, diags
	}
	params, err := imageSettings(spec, storage.Storage, b.block).CreateParams()
	if err != nil {
		diags.AddError("Invalid Golden Image Setting", fmt.Sprintf("The golden image of template %q cannot be created: %v.", spec.Name, err))
		return out, diags
	}
	params.Set("ostemplate", b.osImage)
	ops := &containerResource{data: r.data}
	ref, ok := r.createImageContainer(ctx, b, params, &diags)
	if !ok {
		out.leftover = int64(ref.vmid)
		return out, diags
	}
	ctx = tflog.SetField(ctx, "image_vmid", ref.vmid)
	rerun, ok := r.provisionImage(ctx, ops, ref, spec, &diags)
	if ok {
		ok = r.sealImage(ctx, ops, ref, &diags)
	}
	if !ok {
		out.leftover = r.discardBuild(ctx, ref, &diags)
		return out, diags
	}
	tflog.Info(ctx, "golden image built", map[string]any{"template": spec.Name, "clone": clone, "rerun_on_clone": rerun})
	out.image = &templatedir.Image{Node: b.node, VMID: int64(ref.vmid), Storage: storage.Storage, Shared: storage.Shared, Clone: clone, Rerun: rerun}
	return out, diags
}

// imageStorage resolves the image's storage: the block's, else the
// template's default, else the node's first storage for containers.
func (r *lxcTemplateResource) imageStorage(ctx context.Context, b imageBuild) (pveapi.Storage, error) {
	api := r.data.API
	id := ""
	if known(b.block.Storage) {
		id = b.block.Storage.ValueString()
	}
	if id == "" {
		id = b.spec.Defaults.Storage
	}
	if id == "" {
		var err error
		if id, err = api.DefaultContainerStorage(ctx, b.node); err != nil {
			return pveapi.Storage{}, err
		}
	}
	st, err := api.FindStorage(ctx, b.node, id)
	if err != nil {
		return st, fmt.Errorf("the golden image's storage %q could not be found on node %s: %w", id, b.node, err)
	}
	return st, nil
}

// cloneMode is the clone mode the image is built for: the configured one,
// else linked where the storage can link clones and full elsewhere. A
// linked mode the storage cannot do is an error before anything is built.
func cloneMode(st pveapi.Storage, configured string) (string, error) {
	links, certain := st.LinksContainerClones()
	switch {
	case configured == templatedir.CloneFull, configured == "" && !links:
		return templatedir.CloneFull, nil
	case !links && certain:
		return "", fmt.Errorf("storage %q is of type %s, where Proxmox VE cannot make linked clones of containers (they would be qcow2 "+
			"images). Set image.clone = \"full\", or put the image on LVM-thin, ZFS, Ceph RBD or Btrfs storage", st.Storage, st.Type)
	}
	return templatedir.CloneLinked, nil
}

// imageSettings are the settings of the container an image is built in:
// the template's defaults, one interface with the block's address.
func imageSettings(spec templatedir.Spec, storage string, block imageModel) lxcconf.Settings {
	d := spec.Defaults
	or := func(v, fallback int64) int64 {
		if v > 0 {
			return v
		}
		return fallback
	}
	bridge := d.Bridge
	if bridge == "" {
		bridge = defaultBridge
	}
	ip := defaultIPConfig
	if known(block.IP) {
		ip = block.IP.ValueString()
	}
	return lxcconf.Settings{
		Hostname:     imageHostname(spec.Name),
		Cores:        d.Cores,
		Memory:       or(d.Memory, defaultMemory),
		Swap:         or(d.Swap, defaultSwap),
		Storage:      storage,
		DiskGiB:      float64(or(d.DiskSize, defaultDiskGiB)),
		Unprivileged: d.Unprivileged,
		Features:     lxcconf.Features{Nesting: d.Features.Nesting, Keyctl: d.Features.Keyctl, Fuse: d.Features.Fuse},
		Networks:     []lxcconf.Network{{Name: "eth0", Bridge: bridge, IP: ip, GW: block.GW.ValueString()}},
		Tags:         spec.Tags,
		Description:  fmt.Sprintf("Golden image of template %s (spec sha256 %s), built by Terraform (pve_lxc_template).", spec.Name, spec.SHA256),
	}
}

var hostnameUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// imageHostname is the host name the image is built with: the template's
// name made a valid host name, the name a container of the template gets
// by default.
func imageHostname(name string) string {
	h := strings.Trim(hostnameUnsafe.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-")
	}
	if h == "" {
		return "golden-image"
	}
	return h
}

// createImageContainer creates the container the image is built in. When
// the create's outcome is unknown the VMID is returned with ok false, so
// the caller keeps track of it.
func (r *lxcTemplateResource) createImageContainer(ctx context.Context, b imageBuild, params *pveapi.Params, diags *diag.Diagnostics) (containerRef, bool) {
	api := r.data.API
	ref, upid, err := requestCreate(ctx, api, b.node, b.block.VMID, params)
	var ambiguous *pveapi.AmbiguousCreateError
	switch {
	case errors.As(err, &ambiguous):
		diags.AddError("Golden Image Creation Uncertain", fmt.Sprintf(
			"The create request for the golden image's container %d on node %s got no clear answer (%v). It is listed in "+
				"retired_image_vmids, and the next apply removes it if it exists.", ref.vmid, ref.node, err))
		return ref, false
	case err != nil:
		diags.AddError("Unable to Create the Golden Image", fmt.Sprintf("Proxmox VE refused to create the golden image's container on node %s: %v", ref.node, err))
		return containerRef{}, false
	}
	r.data.invalidateCluster()
	tflog.Info(ctx, "creating the golden image's container", map[string]any{"vmid": ref.vmid, "upid": upid})
	res, err := api.WaitTask(ctx, upid)
	var taskErr *pveapi.TaskError
	switch {
	case errors.As(err, &taskErr):
		diags.AddError("Unable to Create the Golden Image", fmt.Sprintf("Creating the golden image's container %d on node %s failed: %v", ref.vmid, ref.node, err))
		return containerRef{}, false
	case err != nil:
		diags.AddError("Golden Image Creation Did Not Finish", fmt.Sprintf(
			"Waiting for the creation of the golden image's container %d on node %s failed: %v. It is listed in "+
				"retired_image_vmids, and the next apply removes it.", ref.vmid, ref.node, err))
		return ref, false
	}
	addTaskWarnings(diags, "Creating the golden image's container", res)
	return ref, true
}

// provisionImage starts the container and provisions it with the whole
// spec in one agent run. It returns the steps that saved credentials: each
// clone runs them again.
func (r *lxcTemplateResource) provisionImage(ctx context.Context, ops *containerResource, ref containerRef, spec templatedir.Spec, diags *diag.Diagnostics) ([]string, bool) {
	if err := ops.start(ctx, ref, diags); err != nil {
		addContainerError(diags, "Unable to Start the Golden Image", ref, "it was created to build the golden image of template %q but did not start: %v", spec.Name, err)
		return nil, false
	}
	settings := provisioningSettings{enabled: true, rerun: provision.RerunChanged, spec: &spec}
	outcome, err := ops.provision(ctx, provisionJob{ref: ref, settings: settings, create: true, hostname: imageHostname(spec.Name)})
	if err != nil {
		provisioningError(diags, ref, err, "The golden image was not built; its container is removed again.")
		return nil, false
	}
	return outcome.report.CredentialSteps(), true
}

// sealImage generalises the provisioned container, stops it and converts
// it to a template.
func (r *lxcTemplateResource) sealImage(ctx context.Context, ops *containerResource, ref containerRef, diags *diag.Diagnostics) bool {
	var out []string
	err := ops.pctExec(ctx, ref, provision.GeneralizeArgv(), nil, func(line string) {
		out = append(out, line)
		tflog.Info(ctx, "generalising the golden image", map[string]any{"line": line})
	})
	if err != nil {
		addContainerError(diags, "Unable to Generalise the Golden Image", ref,
			"removing its machine id, SSH host keys and saved credentials failed: %v\n%s", err, strings.Join(out, "\n"))
		return false
	}
	if err := ops.shutdown(ctx, ref, diags); err != nil {
		addContainerError(diags, "Unable to Stop the Golden Image", ref, "%v", err)
		return false
	}
	if err := r.data.API.ConvertToTemplate(ctx, ref.node, ref.vmid); err != nil {
		addContainerError(diags, "Unable to Convert the Golden Image", ref, "converting it to a Proxmox VE template failed: %v", err)
		return false
	}
	r.data.invalidateCluster()
	return true
}

// discardBuild destroys the container of a failed build; when that fails
// too it returns its VMID, so that it is tracked and removed later.
func (r *lxcTemplateResource) discardBuild(ctx context.Context, ref containerRef, diags *diag.Diagnostics) int64 {
	ctx = context.WithoutCancel(ctx)
	var d diag.Diagnostics
	(&containerResource{data: r.data}).destroy(ctx, ref, &d)
	if d.HasError() {
		diags.AddWarning("Failed Golden Image Kept", fmt.Sprintf(
			"Container %d on node %s, where the golden image was being built, could not be removed: %s. It is listed in "+
				"retired_image_vmids, and later applies try to remove it again.", ref.vmid, ref.node, d.Errors()[0].Detail()))
		return int64(ref.vmid)
	}
	return 0
}

package templatedir

import (
	"cmp"
	"math"
	"path"
	"slices"
)

// Spec is the template spec: the one object that flows from a template
// directory through pve_template_discovery and pve_lxc_template into
// pve_lxc_container. The JSON names are the Terraform attribute names
// (DESIGN §4), so the spec also reads naturally as JSON.
type Spec struct {
	// Name is the template's directory name; it identifies the template.
	Name string `json:"name"`
	// AppName is the display name (TEMPLATE_APP); the directory name when unset.
	AppName string `json:"app_name"`
	// Description is free text (TEMPLATE_DESCRIPTION).
	Description string `json:"description"`
	// Tags are normalised the way PVE stores them: lower-case, unique, sorted.
	Tags []string `json:"tags"`
	// OSTemplate is an appliance name ("debian-12-standard"), a volid
	// ("local:vztmpl/…") or an http(s) URL of a template archive;
	// pve_lxc_template resolves it on a node.
	OSTemplate string `json:"os_template"`
	// ConfigPath is TEMPLATE_CONFIG_PATH, kept for information only: files
	// are always read relative to the template directory.
	ConfigPath string `json:"config_path"`
	// Source is the template directory that scripts and files are read
	// from, as the configuration named it (a relative path stays relative,
	// so the same checkout elsewhere names the same source). A compact spec
	// (Compact) carries digests, not content; LoadContent reads the content
	// from Source when it is needed and checks it against the digests. It
	// is empty for a spec whose content travels inline. Source is not part
	// of the digest: where a checkout lives never changes what is applied.
	Source string `json:"source"`
	// Defaults are the container settings a container gets unless it
	// overrides them.
	Defaults Defaults `json:"defaults"`
	// Scripts run as root in the container, in slice order (see Sort).
	Scripts []Script `json:"scripts"`
	// Packages are installed before the scripts run, grouped per bucket.
	Packages []Package `json:"packages"`
	// Files are written after the scripts, each by its policy.
	Files []File `json:"files"`
	// SHA256 is the digest of everything above (ComputeDigest); it changes
	// whenever anything that would be applied to a container changes.
	SHA256 string `json:"sha256"`
	// Image is the golden image pve_lxc_template built from this spec, or
	// nil. It is not part of the digest: the image is made from the spec.
	Image *Image `json:"image,omitempty"`
}

// Image is a golden image: a Proxmox VE template provisioned once with a
// spec, then generalised, that containers of the spec are cloned from
// instead of being provisioned from scratch.
type Image struct {
	// Node is the node the image lives on.
	Node string `json:"node"`
	// VMID is the image's VMID.
	VMID int64 `json:"vmid"`
	// Storage holds the image's root filesystem (and its linked clones').
	Storage string `json:"storage"`
	// Shared is true when Storage is shared between nodes, so that
	// containers on other nodes can be cloned from the image too.
	Shared bool `json:"shared"`
	// Clone is how containers are cloned from it: CloneLinked or CloneFull.
	Clone string `json:"clone"`
	// Rerun are the keys of the provisioning steps each clone runs again:
	// those that saved credentials while the image was built, whose
	// secrets the image no longer holds.
	Rerun []string `json:"rerun"`
}

// How containers are cloned from a golden image: a linked clone shares
// the image's blocks (fast, and keeps the image in use), a full clone
// copies them.
const (
	CloneLinked = "linked"
	CloneFull   = "full"
)

// Defaults are the container settings of a template (template.conf).
type Defaults struct {
	// Cores is the number of CPU cores (1..8192).
	Cores int64 `json:"cores"`
	// Memory is the RAM in MiB (at least 16).
	Memory int64 `json:"memory"`
	// Swap is the swap in MiB (0 or more).
	Swap int64 `json:"swap"`
	// DiskSize is the root filesystem size in GiB (at least 1).
	DiskSize int64 `json:"disk_size"`
	// Storage is the rootfs storage; empty means "let the container decide".
	Storage string `json:"storage"`
	// Bridge is the network bridge; empty means unset.
	Bridge string `json:"bridge"`
	// Unprivileged runs the container with a user namespace (the safe default).
	Unprivileged bool `json:"unprivileged"`
	// Features are the LXC features the template needs.
	Features Features `json:"features"`
}

// Features are the LXC feature flags a template can ask for.
type Features struct {
	// Nesting allows containers (e.g. Docker) inside the container.
	Nesting bool `json:"nesting"`
	// Keyctl allows the keyctl() system call (Docker in unprivileged containers).
	Keyctl bool `json:"keyctl"`
	// Fuse allows FUSE mounts inside the container.
	Fuse bool `json:"fuse"`
}

// Script is one setup script from container-configs/scripts.
type Script struct {
	// Name is the full file name, e.g. "10-create-user.sh".
	Name string `json:"name"`
	// Order is the numeric prefix of the name; UnnumberedScriptOrder for a
	// script without one, so sorting by (Order, Name) is the run order.
	Order int64 `json:"order"`
	// Content is the script text (always valid UTF-8); empty in a compact
	// spec, which reads it from Source when it is needed.
	Content string `json:"content,omitempty"`
	// SHA256 is the hex digest of Content.
	SHA256 string `json:"sha256"`
	// Enabled scripts run; discovery enables every script.
	Enabled bool `json:"enabled"`
}

// Package is one package to install, from a bucket file or an inline row.
type Package struct {
	// Bucket is the bucket name (the package file's base name, "base" for base.apt).
	Bucket string `json:"bucket"`
	// Manager is one of Managers(): apt, apk, dnf, npm, pip or custom.
	Manager string `json:"manager"`
	// Spec is what gets installed, exactly as written (version pins
	// included); for custom rows it is the name.
	Spec string `json:"spec"`
	// Name is the package name split from Spec, for display and checks.
	Name string `json:"name"`
	// Version is the pin split from Spec ("" when none or not splittable).
	Version string `json:"version"`
	// Check is the custom check command (exit 0 = already installed).
	Check string `json:"check"`
	// Install is the custom install command.
	Install string `json:"install"`
	// Timeout is the custom install timeout in seconds (0 = none).
	Timeout int64 `json:"timeout"`
}

// File is one config file from container-configs/files with its sidecars.
type File struct {
	// Name is the content file's name; the file lands at TargetPath/Name.
	Name string `json:"name"`
	// TargetPath is the absolute, clean target directory from <name>.path.
	TargetPath string `json:"target_path"`
	// Policy is PolicyReplace, PolicyDefault or PolicyBackup.
	Policy string `json:"policy"`
	// Mode is "0755" for an executable source file, else "0644".
	Mode string `json:"mode"`
	// Content is the file's text when it is valid UTF-8 (possibly empty).
	Content string `json:"content,omitempty"`
	// ContentBase64 is the standard base64 of the raw bytes when the file is
	// not valid UTF-8; exactly one of Content and ContentBase64 carries the
	// data.
	ContentBase64 string `json:"content_base64,omitempty"`
	// SHA256 is the hex digest of the raw bytes.
	SHA256 string `json:"sha256"`
}

// Target is the absolute path the file is written to.
func (f File) Target() string { return path.Join(f.TargetPath, f.Name) }

// Package managers, in the order provisioning installs them.
const (
	ManagerApt    = "apt"
	ManagerApk    = "apk"
	ManagerDnf    = "dnf"
	ManagerNpm    = "npm"
	ManagerPip    = "pip"
	ManagerCustom = "custom"
)

// Managers returns the package managers (= package file extensions) in
// installation order.
func Managers() []string {
	return []string{ManagerApt, ManagerApk, ManagerDnf, ManagerNpm, ManagerPip, ManagerCustom}
}

// File policies: what happens when the target already exists with
// different content.
const (
	PolicyReplace = "replace" // overwrite it
	PolicyDefault = "default" // leave it alone (the user owns it)
	PolicyBackup  = "backup"  // move it to <target>.backup-YYYYMMDD-HHMMSS, then write
)

// Policies returns the valid file policies.
func Policies() []string { return []string{PolicyReplace, PolicyDefault, PolicyBackup} }

// Template defaults for keys absent from template.conf.
const (
	DefaultCores         int64 = 1
	DefaultMemory        int64 = 512
	DefaultSwap          int64 = 512
	DefaultDiskSize      int64 = 8
	DefaultOS                  = "debian"
	DefaultOSVersion           = "12"
	DefaultCustomTimeout int64 = 300
)

// UnnumberedScriptOrder is the Order of a script without a numeric prefix:
// such scripts run after all numbered ones, by name.
const UnnumberedScriptOrder int64 = math.MaxInt64

// Sort puts scripts, packages and files in their canonical order: scripts
// by (Order, Name), packages by bucket keeping the order within a bucket,
// files by name then target. Discovery output is already sorted; code that
// merges or overrides parts of a spec calls Sort before ComputeDigest.
func (s *Spec) Sort() {
	slices.SortStableFunc(s.Scripts, func(a, b Script) int {
		return cmp.Or(cmp.Compare(a.Order, b.Order), cmp.Compare(a.Name, b.Name))
	})
	slices.SortStableFunc(s.Packages, func(a, b Package) int { return cmp.Compare(a.Bucket, b.Bucket) })
	slices.SortStableFunc(s.Files, func(a, b File) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.TargetPath, b.TargetPath))
	})
}

package pveschema

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// formatCheck validates a value of a named format and returns the text
// PVE's validator dies with (trailing "\n" included), or "" when valid.
type formatCheck func(string) string

// formats are the named string formats the LXC subset uses, each
// reproducing the validator PVE registers under that name (pve-common
// JSONSchema.pm, pve-container LXC/Config.pm, pve-storage Storage/Plugin.pm,
// pve-access-control AccessControl.pm).
var formats = map[string]formatCheck{
	"string":                 func(string) string { return "" },
	"pve-vmid":               checkVMID,
	"pve-node":               checkNodeName,
	"dns-name":               checkDNSName,
	"pve-configid":           checkConfigID,
	"pve-storage-id":         checkStorageID,
	"pve-volume-id":          checkVolumeID,
	"pve-tag":                checkTag,
	"pve-startup-order":      checkStartupOrder,
	"disk-size":              checkDiskSize,
	"mac-addr":               checkMACAddr,
	"ip":                     checkIP,
	"ipv4":                   checkIPv4,
	"ipv6":                   checkIPv6,
	"CIDR":                   checkCIDR,
	"CIDRv4":                 checkCIDRv4,
	"CIDRv6":                 checkCIDRv6,
	"pve-ipv4-config":        checkIPv4Config,
	"pve-ipv6-config":        checkIPv6Config,
	"pve-iface":              checkIface,
	"address":                checkAddress,
	"pve-task-status-type":   checkTaskStatusType,
	"lxc-ip-with-ll-iface":   checkIPWithLinkLocalIface,
	"pve-lxc-mp-string":      checkMountPointString,
	"pve-lxc-dev-string":     checkDeviceString,
	"pve-ct-timezone":        checkContainerTimezone,
	"pve-storage-path":       checkStoragePath,
	"pve-storage-server":     checkStorageServer,
	"pve-storage-vgname":     checkLVMName,
	"pve-storage-portal-dns": checkPortalDNS,
	"pve-storage-content":    checkStorageContent,
	"pve-storage-options":    checkStorageOptions,
	"pve-dir-override":       checkDirOverride,
	"pve-poolid":             checkPoolID,
	"pve-realm":              checkRealm,
	"pve-priv":               checkPrivilege,
}

// formatNameRE splits "pve-tag-list" into the registered name and PVE's
// "-list" / "-opt" modifiers, as check_format does.
var formatNameRE = regexp.MustCompile(`^(.*?)(?:-(list|opt))?$`)

// lookupFormat resolves a format name, modifiers included.
func lookupFormat(name string) (formatCheck, error) {
	m := formatNameRE.FindStringSubmatch(name)
	base, modifier := m[1], m[2]
	check, ok := formats[base]
	if !ok {
		if keys, _ := namedPropertyStringFormat(base); keys != nil && modifier != "" {
			return nil, fmt.Errorf("'-%s' format must have code ref, not hash", modifier)
		}
		return nil, fmt.Errorf("undefined format '%s'", name)
	}
	switch modifier {
	case "list":
		return func(s string) string {
			// PVE's split_list; lists may be empty. The first bad item's
			// message is reported.
			for _, item := range pveformat.SplitTags(s) {
				if msg := check(item); msg != "" {
					return msg
				}
			}
			return ""
		}, nil
	case "opt":
		return func(s string) string {
			if s == "" || s == "0" {
				return ""
			}
			return check(s)
		}, nil
	}
	return check, nil
}

// mustPerlRE compiles a validator's regex anchored as PVE writes it.
func mustPerlRE(expr string) *regexp.Regexp { return regexp.MustCompile(`^(?:` + expr + `)$`) }

func regexCheck(re *regexp.Regexp, msg func(string) string) formatCheck {
	return func(s string) string {
		if perlFullMatch(re, s) {
			return ""
		}
		return msg(s)
	}
}

func fixed(msg string) func(string) string { return func(string) string { return msg } }

var (
	checkVMID = regexCheck(mustPerlRE(`[1-9][0-9]{2,8}`),
		fixed("value does not look like a valid VM ID\n"))
	checkNodeName = regexCheck(mustPerlRE(`[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?`),
		fixed("value does not look like a valid node name\n"))
	dnsNameRE    = mustPerlRE(`(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?`)
	checkDNSName = regexCheck(dnsNameRE, fixed("value does not look like a valid DNS name\n"))
	// $CONFIGID_RE = qr/[a-z][a-z0-9_-]+/i.
	checkConfigID = regexCheck(mustPerlRE(`(?i:[a-z][a-z0-9_-]+)`),
		func(s string) string { return "invalid configuration ID '" + s + "'\n" })
	checkVolumeID = regexCheck(mustPerlRE(`(?i:[a-z][a-z0-9\-_.]*[a-z0-9]):.+`),
		func(s string) string { return "unable to parse volume ID '" + s + "'\n" })
	checkIface = regexCheck(mustPerlRE(`(?i:[a-z][a-z0-9_]{1,20}(?:[:.][0-9]+)?)`),
		func(s string) string { return "invalid network interface name '" + s + "'\n" })
	checkTaskStatusType = regexCheck(mustPerlRE(`(?i:ok|error|warning|unknown)`),
		func(s string) string { return "invalid status '" + s + "'\n" })
	checkMACAddr = regexCheck(mustPerlRE(`(?i:[a-f0-9][02468ace](?::[a-f0-9]{2}){5})`),
		fixed("value does not look like a valid unicast MAC address\n"))
	checkRealm = regexCheck(mustPerlRE(`[A-Za-z][A-Za-z0-9.\-_]+`),
		fixed("value does not look like a valid realm\n"))
)

// storageIDRE is parse_id's rule for storage (and other) IDs.
var storageIDRE = mustPerlRE(`(?i:[a-z][a-z0-9\-_.]*[a-z0-9])`)

// checkStorageID is pve-storage-id (PVE 9: a length check before the
// character check).
func checkStorageID(s string) string {
	if len(s) < 2 {
		return "storage ID '" + s + "' cannot be shorter than 2 characters\n"
	}
	if !perlFullMatch(storageIDRE, s) {
		return "storage ID '" + s + "' contains illegal characters\n"
	}
	return ""
}

func checkTag(s string) string {
	if pveformat.ValidTag(strings.TrimSuffix(s, "\n")) {
		return ""
	}
	return "invalid characters in tag\n"
}

// diskSizeRE is pve_verify_disk_size, i.e. parse_size's syntax. It only
// checks the syntax: PVE accepts "99999999999999999999T" here, and only
// the storage refuses such a size later.
var diskSizeRE = mustPerlRE(`[0-9]+(?:\.[0-9]+)?(?:[KMGT](?:iB)?)?`)

func checkDiskSize(s string) string {
	if !perlFullMatch(diskSizeRE, s) {
		return "value does not look like a valid disk size: " + s + "\n"
	}
	return ""
}

var (
	startupOrderRE = mustPerlRE(`(?:order=)?[0-9]+`)
	startupUpRE    = mustPerlRE(`up=[0-9]+`)
	startupDownRE  = mustPerlRE(`down=[0-9]+`)
	blankRE        = mustPerlRE(`\s*`)
)

// checkStartupOrder is pve_verify_startup_order: "[[order=]N][,up=N][,down=N]";
// an empty value (or "0", which Perl treats as false) does not parse.
func checkStartupOrder(s string) string {
	const msg = "unable to parse startup options\n"
	if s == "" || s == "0" {
		return msg
	}
	for _, part := range strings.Split(s, ",") {
		if perlFullMatch(blankRE, part) {
			continue
		}
		if !perlFullMatch(startupOrderRE, part) && !perlFullMatch(startupUpRE, part) && !perlFullMatch(startupDownRE, part) {
			return msg
		}
	}
	return ""
}

// checkMountPointString is pve-lxc-mp-string: no "/./", "/../", trailing
// "/." or "/..", or leading "../".
func checkMountPointString(s string) string {
	if hasDotSegment(s) || strings.HasPrefix(s, "../") {
		return s + " contains illegal character sequences\n"
	}
	return ""
}

// checkDeviceString is pve-lxc-dev-string: a /dev/ path without dot segments.
func checkDeviceString(s string) string {
	if hasDotSegment(s) || !strings.HasPrefix(s, "/dev/") {
		return s + " is not a valid device path\n"
	}
	return ""
}

var dotSegmentRE = regexp.MustCompile(`/\.\.?(?:/|\n?$)`)

func hasDotSegment(s string) bool { return dotSegmentRE.MatchString(s) }

// checkContainerTimezone is pve-ct-timezone: "host", "UTC" or a zone.tab name.
func checkContainerTimezone(s string) string {
	if s == "host" || s == "UTC" || zoneTabNames()[s] {
		return ""
	}
	return "invalid time zone '" + s + "'\n"
}

// storagePathRE is PVE's pattern for pve-storage-path, anchored only at
// the start as PVE does.
var storagePathRE = regexp.MustCompile(`^/[^;()]+`)

// checkStoragePath is pve-storage-path: an absolute path.
func checkStoragePath(s string) string {
	if storagePathRE.MatchString(s) {
		return ""
	}
	return "value does not look like a valid absolute path\n"
}

func checkStorageServer(s string) string {
	if checkIP(s) == "" || checkDNSName(s) == "" {
		return ""
	}
	return "value does not look like a valid server name or IP address\n"
}

var lvmNameRE = mustPerlRE(`(?i:[a-z0-9][a-z0-9\-_.]*[a-z0-9])`)

func checkLVMName(s string) string {
	if perlFullMatch(lvmNameRE, s) {
		return ""
	}
	return "lvm name '" + s + "' contains illegal characters\n"
}

// storageContentTypes are the content types of a directory storage, which
// has them all, plus "import".
var storageContentTypes = map[string]bool{
	"images": true, "rootdir": true, "vztmpl": true, "iso": true, "backup": true,
	"snippets": true, "none": true, "import": true,
}

func checkStorageContent(s string) string {
	if storageContentTypes[s] {
		return ""
	}
	return "invalid content type '" + s + "'\n"
}

var nonBlankRE = mustPerlRE(`\S+`)

func checkStorageOptions(s string) string {
	if perlFullMatch(nonBlankRE, s) {
		return ""
	}
	return "invalid options '" + s + "'\n"
}

var dirOverrideRE = regexp.MustCompile(`^([a-z]+)=([^.]*(?:\.?[^.]+)+)\n?$`)

// checkDirOverride is pve-dir-override: "<content>=<relative path>"; an
// unknown content type fails with the content type's own message.
func checkDirOverride(s string) string {
	if m := dirOverrideRE.FindStringSubmatch(s); m != nil {
		if msg := checkStorageContent(m[1]); msg != "" {
			return msg
		}
		if len(m[2]) < 1023 && !hasLongPathElement(m[2]) {
			return ""
		}
	}
	return "invalid override '" + s + "'\n"
}

func hasLongPathElement(path string) bool {
	for _, el := range strings.Split(path, "/") {
		if len(el) >= 255 {
			return true
		}
	}
	return false
}

var poolNameRE = mustPerlRE(`[A-Za-z0-9.\-_]+(?:/[A-Za-z0-9.\-_]+){0,2}`)

// checkPoolID is pve-poolid: up to three "/"-separated levels (nested pools,
// PVE 8.1+).
func checkPoolID(s string) string {
	if len(strings.Split(s, "/")) > 3 {
		return "pool name '" + s + "' nested too deeply (max levels = 3)\n"
	}
	if !perlFullMatch(poolNameRE, s) {
		return "pool name '" + s + "' contains invalid characters\n"
	}
	return ""
}

// privileges are PVE 9's privilege names (VM.Monitor is gone, the
// VM.GuestAgent.* ones are new).
var privileges = func() map[string]bool {
	set := map[string]bool{}
	for _, p := range strings.Fields(`
		Datastore.Allocate Datastore.AllocateSpace Datastore.AllocateTemplate Datastore.Audit
		Group.Allocate Mapping.Audit Mapping.Modify Mapping.Use Permissions.Modify
		Pool.Allocate Pool.Audit Realm.Allocate Realm.AllocateUser
		SDN.Allocate SDN.Audit SDN.Use
		Sys.AccessNetwork Sys.Audit Sys.Console Sys.Incoming Sys.Modify Sys.PowerMgmt Sys.Syslog
		User.Modify VM.Allocate VM.Audit VM.Backup VM.Clone VM.Config.CDROM VM.Config.CPU
		VM.Config.Cloudinit VM.Config.Disk VM.Config.HWType VM.Config.Memory VM.Config.Network
		VM.Config.Options VM.Console VM.GuestAgent.Audit VM.GuestAgent.FileRead
		VM.GuestAgent.FileSystemMgmt VM.GuestAgent.FileWrite VM.GuestAgent.Unrestricted
		VM.Migrate VM.PowerMgmt VM.Replicate VM.Snapshot VM.Snapshot.Rollback`) {
		set[p] = true
	}
	return set
}()

func checkPrivilege(s string) string {
	if privileges[s] {
		return ""
	}
	return "invalid privilege '" + s + "'\n"
}

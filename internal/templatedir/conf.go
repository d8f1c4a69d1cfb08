package templatedir

import (
	"cmp"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Keys of template.conf (spec/template-format.md, "Keys").
const (
	keyApp          = "TEMPLATE_APP"
	keyDescription  = "TEMPLATE_DESCRIPTION"
	keyTags         = "TEMPLATE_TAGS"
	keyCPU          = "TEMPLATE_CPU"
	keyRAM          = "TEMPLATE_RAM"
	keySwap         = "TEMPLATE_SWAP"
	keyDisk         = "TEMPLATE_DISK"
	keyStorage      = "TEMPLATE_STORAGE"
	keyBridge       = "TEMPLATE_BRIDGE"
	keyOS           = "TEMPLATE_OS"
	keyVersion      = "TEMPLATE_VERSION"
	keyOSTemplate   = "TEMPLATE_OSTEMPLATE"
	keyUnprivileged = "TEMPLATE_UNPRIVILEGED"
	keyNesting      = "TEMPLATE_NESTING"
	keyKeyctl       = "TEMPLATE_KEYCTL"
	keyFuse         = "TEMPLATE_FUSE"
	keyConfigPath   = "TEMPLATE_CONFIG_PATH"
)

var knownConfKeys = map[string]bool{
	keyApp: true, keyDescription: true, keyTags: true, keyCPU: true, keyRAM: true,
	keySwap: true, keyDisk: true, keyStorage: true, keyBridge: true, keyOS: true,
	keyVersion: true, keyOSTemplate: true, keyUnprivileged: true, keyNesting: true,
	keyKeyctl: true, keyFuse: true, keyConfigPath: true,
}

// osTemplateRE accepts appliance names ("debian-12-standard"), volids
// ("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst") and plain image
// URLs ("https://images.example/os/custom_1.0_amd64.tar.zst"); anything
// with blanks, quotes or a literal "$" cannot name an image.
var osTemplateRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/+-]*$`)

// confReader turns the variables of one template.conf into spec fields.
type confReader struct {
	file  string
	vars  map[string]confValue
	probs *Problems
}

// applyConf parses template.conf and fills the spec's settings. Absent keys
// get the defaults of the spec; a key set to an empty string counts as
// absent for text keys, and is an error for numbers and booleans.
func applyConf(spec *Spec, file string, src []byte, probs *Problems) {
	r := confReader{file: file, vars: parseConfShell(file, src, probs), probs: probs}
	r.warnUnknownKeys()

	spec.AppName = r.text(keyApp, spec.Name)
	spec.Description = r.text(keyDescription, "")
	spec.ConfigPath = r.text(keyConfigPath, "")
	spec.Tags = r.tags()
	spec.OSTemplate = r.osTemplate()
	spec.Defaults = Defaults{
		Cores:        r.integer(keyCPU, DefaultCores, 1, 8192),
		Memory:       r.integer(keyRAM, DefaultMemory, 16, math.MaxInt64),
		Swap:         r.integer(keySwap, DefaultSwap, 0, math.MaxInt64),
		DiskSize:     r.integer(keyDisk, DefaultDiskSize, 1, pveformat.MaxDiskGiB),
		Storage:      r.checkedText(keyStorage, pveformat.ValidateStorageID),
		Bridge:       r.checkedText(keyBridge, pveformat.ValidateBridgeName),
		Unprivileged: r.boolean(keyUnprivileged, true),
		Features: Features{
			Nesting: r.boolean(keyNesting, false),
			Keyctl:  r.boolean(keyKeyctl, false),
			Fuse:    r.boolean(keyFuse, false),
		},
	}
}

func (r *confReader) warnUnknownKeys() {
	var unknown []string
	for k := range r.vars {
		if strings.HasPrefix(k, "TEMPLATE_") && !knownConfKeys[k] {
			unknown = append(unknown, k)
		}
	}
	slices.SortFunc(unknown, func(a, b string) int {
		return cmp.Or(cmp.Compare(r.vars[a].line, r.vars[b].line), cmp.Compare(a, b))
	})
	for _, k := range unknown {
		hint := ""
		if k == "TEMPLATE_PRIVILEGED" {
			hint = " (did you mean TEMPLATE_UNPRIVILEGED?)"
		}
		r.probs.warnf(r.file, r.vars[k].line, "unknown key %s ignored%s", k, hint)
	}
}

// lookup returns a key's value; ok is false when the key is absent or
// its value is not valid UTF-8 (reported as an error).
func (r *confReader) lookup(key string) (confValue, bool) {
	v, ok := r.vars[key]
	if !ok {
		return v, false
	}
	if !utf8.ValidString(v.value) {
		r.probs.errorf(r.file, v.line, "%s: value is not valid UTF-8", key)
		return v, false
	}
	return v, true
}

func (r *confReader) text(key, def string) string {
	v, ok := r.lookup(key)
	if !ok || v.value == "" {
		return def
	}
	return v.value
}

// checkedText is a text key whose value must pass check (one of
// pveformat's format checks): a value Proxmox VE would not accept, or one
// that would smuggle extra keys into a property string ("vmbr0,tag=666"),
// is an error naming the line, and the key stays unset.
func (r *confReader) checkedText(key string, check func(string) error) string {
	v := r.text(key, "")
	if v == "" {
		return ""
	}
	if err := check(v); err != nil {
		r.probs.errorf(r.file, r.vars[key].line, "%s: %s", key, err.Error())
		return ""
	}
	return v
}

func (r *confReader) integer(key string, def, lo, hi int64) int64 {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	s := strings.TrimSpace(v.value)
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && (n < lo || n > hi):
		if hi == math.MaxInt64 {
			r.probs.errorf(r.file, v.line, "%s: %s is out of range (must be an integer of at least %d)", key, excerpt(s), lo)
		} else {
			r.probs.errorf(r.file, v.line, "%s: %s is out of range (must be an integer from %d to %d)", key, excerpt(s), lo, hi)
		}
		return def
	case err != nil:
		r.probs.errorf(r.file, v.line, "%s: %s is not an integer", key, excerpt(v.value))
		return def
	}
	return n
}

func (r *confReader) boolean(key string, def bool) bool {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	b, ok := pveformat.ParseBool(strings.TrimSpace(v.value))
	if !ok {
		r.probs.errorf(r.file, v.line, "%s: %s is not a boolean (use 1/0, true/false, yes/no or on/off)", key, excerpt(v.value))
		return def
	}
	return b
}

// tags splits TEMPLATE_TAGS and normalises it as PVE stores tags; a tag PVE
// would reject is kept (the API will say so) but warned about now.
func (r *confReader) tags() []string {
	v, ok := r.lookup(keyTags)
	if !ok {
		return []string{}
	}
	tags := pveformat.NormalizeTags(pveformat.SplitTags(v.value))
	for _, t := range tags {
		if !pveformat.ValidTag(t) {
			r.probs.warnf(r.file, v.line, "%s: tag %s is not a valid Proxmox VE tag (letters, digits, _ - + . only; not starting with - + .)", keyTags, excerpt(t))
		}
	}
	return tags
}

// osTemplate is TEMPLATE_OSTEMPLATE when set, else "<os>-<version>-standard".
func (r *confReader) osTemplate() string {
	if v, ok := r.lookup(keyOSTemplate); ok && v.value != "" {
		if !osTemplateRE.MatchString(v.value) {
			r.probs.errorf(r.file, v.line, "%s: %s is neither an appliance name, a volid nor an https URL without a query string", keyOSTemplate, excerpt(v.value))
		}
		return v.value
	}
	osName := r.text(keyOS, DefaultOS)
	version := r.text(keyVersion, DefaultOSVersion)
	t := osName + "-" + version + "-standard"
	if !osTemplateRE.MatchString(t) {
		line := r.vars[keyOS].line
		if v, ok := r.vars[keyVersion]; ok && !osTemplateRE.MatchString(v.value) {
			line = v.line
		}
		r.probs.errorf(r.file, line, "%s/%s give the appliance name %s, which is not valid", keyOS, keyVersion, excerpt(t))
	}
	return t
}

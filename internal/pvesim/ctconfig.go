package pvesim

import (
	"crypto/sha1" //nolint:gosec // PVE's config digest is SHA-1; it detects concurrent edits, it protects nothing.
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pveschema"
)

// schema is PVE's API schema, used for validation, config key types and
// canonical property strings.
var schema = pveschema.Default()

// ctConfig is one container's config file, /etc/pve/nodes/<node>/lxc/<vmid>.conf,
// as pve-container parses it: the current values, the [pve:pending]
// section, the keys pending deletion and the snapshot sections. The file text is the source of
// truth; a ctConfig is always the parse of a text written by text(), so
// what the API returns matches what a real server reads back from disk
// (descriptions get a "\n" per line, booleans and integers are normalised).
type ctConfig struct {
	Values        map[string]string
	Pending       map[string]string
	PendingDelete []string
	// Snapshots are the "[name]" sections: the config values the snapshot
	// kept, plus its snaptime, parent, description and, while a task works
	// on it, snapstate.
	Snapshots map[string]map[string]string
}

func newCTConfig() *ctConfig {
	return &ctConfig{Values: map[string]string{}, Pending: map[string]string{}, Snapshots: map[string]map[string]string{}}
}

func (c *ctConfig) clone() *ctConfig {
	n := newCTConfig()
	for k, v := range c.Values {
		n.Values[k] = v
	}
	for k, v := range c.Pending {
		n.Pending[k] = v
	}
	n.PendingDelete = append([]string(nil), c.PendingDelete...)
	for name, snap := range c.Snapshots {
		n.Snapshots[name] = maps.Clone(snap)
	}
	return n
}

// lock is the persistent config lock ("create", "disk", ...), or "".
func (c *ctConfig) lock() string { return c.Values["lock"] }

// text prints the config like write_pct_config: description as "#" lines
// (encode_text), then "key: value" lines sorted by key, then the pending
// section the same way with its "delete:" line, then one "[name]" section
// per snapshot, sorted by name.
func (c *ctConfig) text() string {
	var b strings.Builder
	writeSection(&b, c.Values)
	if len(c.Pending) > 0 || len(c.PendingDelete) > 0 {
		b.WriteString("\n[pve:pending]\n")
		pending := make(map[string]string, len(c.Pending)+1)
		for k, v := range c.Pending {
			pending[k] = v
		}
		if len(c.PendingDelete) > 0 {
			pending["delete"] = strings.Join(c.PendingDelete, ",")
		}
		writeSection(&b, pending)
	}
	for _, name := range sortedKeys(c.Snapshots) {
		b.WriteString("\n[" + name + "]\n")
		writeSection(&b, c.Snapshots[name])
	}
	return b.String()
}

func writeSection(b *strings.Builder, values map[string]string) {
	for _, line := range perlSplitLines(values["description"]) {
		b.WriteString("#" + encodeText(line) + "\n")
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		if k != "description" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + values[k] + "\n")
	}
}

// perlSplitLines is Perl's split(/\n/, $s): trailing empty fields dropped.
func perlSplitLines(s string) []string {
	lines := strings.Split(s, "\n")
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// encodeText is PVE::Tools::encode_text: every byte outside 0x20-0x39 and
// 0x3b-0x7e (control characters, ":" and non-ASCII) becomes %XX.
func encodeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 0x20 && c <= 0x39) || (c >= 0x3b && c <= 0x7e) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// decodeText is PVE::Tools::decode_text (uri_unescape): every %XX decoded.
func decodeText(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// digest is the SHA-1 of the config file, what GET config calls "digest".
func configDigest(text string) string {
	sum := sha1.Sum([]byte(text)) //nolint:gosec // see the import.
	return hex.EncodeToString(sum[:])
}

var (
	sectionRE = regexp.MustCompile(`^\[([a-zA-Z][a-zA-Z0-9_\-]+)\]\s*$`)
	pendingRE = regexp.MustCompile(`(?i)^\[pve:pending\]\s*$`)
	keyLineRE = regexp.MustCompile(`^([a-z][a-z_]*\d*):\s*(.+?)\s*$`)
)

// parseCTConfig is parse_pct_config: blank lines skipped, "#" lines
// collected as the description of the section they are in (decoded, "\n"
// appended to each), "key: value" lines normalised by check_type, "[name]"
// sections kept as snapshots.
func parseCTConfig(text string) (*ctConfig, error) {
	c := newCTConfig()
	section := c.Values
	inPending := false
	var descr strings.Builder
	flushDescr := func() {
		if descr.Len() > 0 {
			section["description"] = descr.String()
		}
		descr.Reset()
	}
	for _, line := range perlSplitLines(text) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if pendingRE.MatchString(line) {
			flushDescr()
			section, inPending = c.Pending, true
			continue
		}
		if m := sectionRE.FindStringSubmatch(line); m != nil {
			flushDescr()
			section, inPending = map[string]string{}, false
			c.Snapshots[m[1]] = section
			continue
		}
		if strings.HasPrefix(line, "#") {
			descr.WriteString(decodeText(line[1:]) + "\n")
			continue
		}
		if inPending && strings.HasPrefix(line, "delete:") {
			for _, k := range pveformat.SplitTags(strings.TrimSpace(strings.TrimPrefix(line, "delete:"))) {
				c.PendingDelete = append(c.PendingDelete, strings.TrimPrefix(k, "!"))
			}
			continue
		}
		m := keyLineRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("unable to parse config line %q", line)
		}
		section[m[1]] = normaliseConfigValue(m[1], m[2])
	}
	flushDescr()
	return c, nil
}

// normaliseConfigValue is check_type: booleans become 1/0, integers plain decimal.
func normaliseConfigValue(key, value string) string {
	switch configKeyType(key) {
	case "boolean":
		if b, ok := pveformat.ParseBool(value); ok {
			return pveformat.FormatBool(b)
		}
	case "integer":
		if n, err := strconv.ParseInt(value, 10, 64); err == nil && n >= 0 {
			return strconv.FormatInt(n, 10)
		}
	}
	return value
}

func configKeyType(key string) string {
	if p, ok := schema.ConfigKey(key); ok {
		return p.Type
	}
	if key == "snaptime" { // in pve-container's config schema, not in the config PUT's
		return "integer"
	}
	return ""
}

// jsonValue types a config value the way PVE's JSON encoder sees the Perl
// scalars check_type produced: booleans and integers are numbers,
// everything else (numbers included) stays a string.
func jsonValue(key, value string) any {
	switch configKeyType(key) {
	case "boolean", "integer":
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			return n
		}
	}
	return value
}

// merged returns the values with pending changes applied, as GET config
// shows them without current=1.
func (c *ctConfig) merged() map[string]string {
	out := make(map[string]string, len(c.Values)+len(c.Pending))
	for k, v := range c.Values {
		out[k] = v
	}
	for k, v := range c.Pending {
		out[k] = v
	}
	for _, k := range c.PendingDelete {
		delete(out, k)
	}
	return out
}

// hasPendingDelete reports whether key is queued for deletion.
func (c *ctConfig) hasPendingDelete(key string) bool {
	for _, k := range c.PendingDelete {
		if k == key {
			return true
		}
	}
	return false
}

func (c *ctConfig) addPendingDelete(key string) {
	if !c.hasPendingDelete(key) {
		c.PendingDelete = append(c.PendingDelete, key)
		sort.Strings(c.PendingDelete)
	}
}

func (c *ctConfig) removePendingDelete(key string) {
	out := c.PendingDelete[:0]
	for _, k := range c.PendingDelete {
		if k != key {
			out = append(out, k)
		}
	}
	c.PendingDelete = out
}

// cleanupPending drops pending values equal to the current ones and pending
// deletions of keys that are not set (cleanup_pending).
func (c *ctConfig) cleanupPending() {
	for k, v := range c.Pending {
		if cur, ok := c.Values[k]; ok && cur == v {
			delete(c.Pending, k)
		}
	}
	out := c.PendingDelete[:0]
	for _, k := range c.PendingDelete {
		if _, ok := c.Values[k]; ok {
			out = append(out, k)
		}
	}
	c.PendingDelete = out
}

// sortedKeys lists a map's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

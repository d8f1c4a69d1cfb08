package pveapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// ContainerConfig is an LXC container's configuration as GET .../config
// returns it. Keys are dynamic (net0…net31, mp0…mp255, unused0…), so the
// values are kept as text — numbers in decimal, booleans as 0/1 — with
// typed accessors; property-string values are parsed with pveformat.
type ContainerConfig struct {
	values map[string]string
	// Digest is the SHA-1 of the raw config file; pass it back to
	// UpdateContainerConfig to fail instead of overwriting a concurrent change.
	Digest string
	// LXC holds raw "lxc.*" keys as [key, value] pairs (read-only: they cannot
	// be set through the API).
	LXC [][2]string
}

// NewContainerConfig builds a config from values (copied), e.g. in tests.
func NewContainerConfig(values map[string]string, digest string) ContainerConfig {
	return ContainerConfig{values: maps.Clone(values), Digest: digest}
}

// UnmarshalJSON reads PVE's loosely typed config object.
func (c *ContainerConfig) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("container config: %w", err)
	}
	c.values = make(map[string]string, len(raw))
	c.Digest, c.LXC = "", nil
	for key, value := range raw {
		value = bytes.TrimSpace(value)
		switch {
		case key == "lxc":
			var pairs [][]string
			if err := json.Unmarshal(value, &pairs); err != nil {
				return fmt.Errorf("container config: lxc: %w", err)
			}
			for _, p := range pairs {
				if len(p) == 2 {
					c.LXC = append(c.LXC, [2]string{p[0], p[1]})
				}
			}
		case len(value) == 0 || string(value) == "null":
		case value[0] == '{' || value[0] == '[':
			c.values[key] = string(value)
		default:
			s, err := looseString(value)
			if err != nil {
				return fmt.Errorf("container config: %s: %w", key, err)
			}
			if key == "digest" {
				c.Digest = s
				continue
			}
			c.values[key] = s
		}
	}
	return nil
}

// Get returns the value of key and whether it is set.
func (c ContainerConfig) Get(key string) (string, bool) {
	v, ok := c.values[key]
	return v, ok
}

// Value returns the value of key, or "" when unset.
func (c ContainerConfig) Value(key string) string { return c.values[key] }

// Has reports whether key is set.
func (c ContainerConfig) Has(key string) bool {
	_, ok := c.values[key]
	return ok
}

// Keys returns the set keys, sorted.
func (c ContainerConfig) Keys() []string {
	return slices.Sorted(maps.Keys(c.values))
}

// Map returns a copy of all values.
func (c ContainerConfig) Map() map[string]string { return maps.Clone(c.values) }

// Int returns key as an integer, or def when unset.
func (c ContainerConfig) Int(key string, def int64) (int64, error) {
	v, ok := c.values[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("container config %s: %q is not an integer", key, v)
	}
	return n, nil
}

// Float returns key as a number (cpulimit is fractional), or def when unset.
func (c ContainerConfig) Float(key string, def float64) (float64, error) {
	v, ok := c.values[key]
	if !ok || v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("container config %s: %q is not a number", key, v)
	}
	return f, nil
}

// Bool returns key as a boolean (0/1, and PVE's lenient spellings), or def
// when unset.
func (c ContainerConfig) Bool(key string, def bool) (bool, error) {
	v, ok := c.values[key]
	if !ok || v == "" {
		return def, nil
	}
	b, ok := pveformat.ParseBool(v)
	if !ok {
		return false, fmt.Errorf("container config %s: %q is not a boolean", key, v)
	}
	return b, nil
}

// Property parses key as a property string (net0, rootfs, features, …)
// whose format has defaultKey as its bare key ("" for none). ok is false
// when key is unset.
func (c ContainerConfig) Property(key, defaultKey string) (ps pveformat.PropertyString, ok bool, err error) {
	v, ok := c.values[key]
	if !ok {
		return pveformat.PropertyString{}, false, nil
	}
	ps, err = pveformat.ParsePropertyString(v, defaultKey, nil)
	if err != nil {
		return pveformat.PropertyString{}, true, fmt.Errorf("container config %s: %w", key, err)
	}
	return ps, true, nil
}

// Slots returns the indexes of the numbered keys with prefix, sorted: for
// prefix "net" and keys net0, net2 it returns [0 2].
func (c ContainerConfig) Slots(prefix string) []int {
	var out []int
	for key := range c.values {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok || rest == "" {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || strconv.Itoa(n) != rest {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// LockCreate is the persistent config lock of a guest being created
// (create, restore, or the target of a clone). PVE writes it before the
// create answers and removes it when the task has written the final
// config; a failed create task of a new guest deletes the whole config. A
// task whose worker died (PVE restarted, the node crashed: its status is
// "unexpected status") leaves the config behind with this lock, which then
// stays until `pct unlock <vmid>` on the node removes it (see
// Client.CreateLockIsStale).
const LockCreate = "create"

// Lock is the persistent config lock ("create", "disk", "backup", …), or "".
func (c ContainerConfig) Lock() string { return c.values["lock"] }

// LockedByCreate reports whether the config carries the "create" lock: the
// guest is being created, or its create died and left it (see
// Client.CreateLockIsStale to tell the two apart).
func (c ContainerConfig) LockedByCreate() bool { return c.Lock() == LockCreate }

// IsTemplate reports whether the container has been converted to a template.
func (c ContainerConfig) IsTemplate() bool {
	b, _ := c.Bool("template", false)
	return b
}

package pveapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Params is an ordered set of request parameters. PVE config keys are
// dynamic (net0…net31, mp0…mp255), so a builder fits better than structs.
// Values are sent as text exactly as set; booleans as 0/1, which is the only
// form PVE accepts for top-level parameters. The zero value is ready to use.
type Params struct {
	keys    []string
	values  map[string]string
	deletes []string
}

// NewParams returns an empty builder.
func NewParams() *Params { return &Params{} }

// Set sets key to value (an empty value is sent as "key=", which PVE treats
// as an empty string, not as absent). It cancels an earlier Delete of key.
func (p *Params) Set(key, value string) *Params {
	if p.values == nil {
		p.values = map[string]string{}
	}
	if _, ok := p.values[key]; !ok {
		p.keys = append(p.keys, key)
	}
	p.values[key] = value
	p.deletes = slices.DeleteFunc(p.deletes, func(k string) bool { return k == key })
	return p
}

// SetInt sets key to the decimal text of v.
func (p *Params) SetInt(key string, v int64) *Params {
	return p.Set(key, strconv.FormatInt(v, 10))
}

// SetBool sets key to "1" or "0".
func (p *Params) SetBool(key string, v bool) *Params {
	return p.Set(key, pveformat.FormatBool(v))
}

// SetProperty sets key to the property string ps printed in PVE's canonical
// form for format f. A value holding a separator is refused (see
// pveformat.PropertyFormat.Format) and nothing is set.
func (p *Params) SetProperty(key string, ps pveformat.PropertyString, f pveformat.PropertyFormat) error {
	printed, err := f.Format(ps)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	p.Set(key, printed)
	return nil
}

// Delete asks PVE to remove config keys (sent as one "delete=a,b" list). It
// cancels an earlier Set of the same keys, since PVE rejects a key that is
// both set and deleted.
func (p *Params) Delete(keys ...string) *Params {
	for _, key := range keys {
		if _, ok := p.values[key]; ok {
			delete(p.values, key)
			p.keys = slices.DeleteFunc(p.keys, func(k string) bool { return k == key })
		}
		if !slices.Contains(p.deletes, key) {
			p.deletes = append(p.deletes, key)
		}
	}
	return p
}

// Get returns the value set for key.
func (p *Params) Get(key string) (string, bool) {
	if p == nil {
		return "", false
	}
	v, ok := p.values[key]
	return v, ok
}

// Keys returns the set keys in the order they were first set.
func (p *Params) Keys() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.keys)
}

// Deletes returns the keys to delete, in order.
func (p *Params) Deletes() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.deletes)
}

// Empty reports whether nothing is set and nothing deleted.
func (p *Params) Empty() bool {
	return p == nil || (len(p.keys) == 0 && len(p.deletes) == 0)
}

// Clone returns an independent copy.
func (p *Params) Clone() *Params {
	c := &Params{}
	if p == nil {
		return c
	}
	for _, k := range p.keys {
		c.Set(k, p.values[k])
	}
	c.deletes = slices.Clone(p.deletes)
	return c
}

// Encode renders the parameters as application/x-www-form-urlencoded text
// (also used for query strings), in insertion order with "delete" last.
// Spaces are written as %20, which every decoder reads the same way.
func (p *Params) Encode() string {
	if p.Empty() {
		return ""
	}
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(formEscape(k))
		b.WriteByte('=')
		b.WriteString(formEscape(v))
	}
	for _, k := range p.keys {
		add(k, p.values[k])
	}
	if len(p.deletes) > 0 {
		add("delete", strings.Join(p.deletes, ","))
	}
	return b.String()
}

func formEscape(s string) string {
	// QueryEscape writes a literal "+" as %2B, so every "+" left is a space.
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

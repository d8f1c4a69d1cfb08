package pveschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Method is one API method: what the server needs to route, authorise and
// validate a request, straight from the schema.
type Method struct {
	Path        string // template, e.g. "/nodes/{node}/lxc/{vmid}/config"
	HTTPMethod  string // GET, POST, PUT or DELETE
	Name        string // PVE's handler name, e.g. "update_vm"
	Description string
	AllowToken  bool   // API tokens may call it (allowtoken)
	Protected   bool   // runs in the privileged daemon on real PVE
	ProxyTo     string // parameter naming the node the call is proxied to
	Download    bool   // download_allowed
	// ReturnType is the JSON type of "data" ("null", "string", "object",
	// "array", "integer", ...); "" when the schema does not say.
	ReturnType string
	// Returns and Permissions are the schema's objects, verbatim.
	Returns     json.RawMessage
	Permissions json.RawMessage
	// AdditionalProperties is true when unknown parameters are allowed
	// (no method of the LXC subset allows them).
	AdditionalProperties bool

	params  map[string]*Property // by exact name
	indexed []*indexedParam      // net[n], mp[n], ...
	names   []string             // schema names, sorted
}

// indexedParam is a "name[n]" parameter: name0 … name<count-1>.
type indexedParam struct {
	prefix string
	count  int
	prop   *Property
}

// indexedCounts says how many keys each "[n]" template stands for; the API
// dump collapses them, pve-container defines them ($MAX_LXC_NETWORKS = 32,
// $MAX_MOUNT_POINTS = $MAX_UNUSED_DISKS = $MAX_DEVICES = 256).
var indexedCounts = map[string]int{"net": 32, "mp": 256, "unused": 256, "dev": 256}

type methodJSON struct {
	Name            string          `json:"name"`
	Description     string          `json:"description"`
	Method          string          `json:"method"`
	AllowToken      json.RawMessage `json:"allowtoken"`
	Protected       json.RawMessage `json:"protected"`
	ProxyTo         string          `json:"proxyto"`
	DownloadAllowed json.RawMessage `json:"download_allowed"`
	Returns         json.RawMessage `json:"returns"`
	Permissions     json.RawMessage `json:"permissions"`
	Parameters      struct {
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
		Properties           map[string]json.RawMessage `json:"properties"`
	} `json:"parameters"`
}

func parseMethod(path, httpMethod string, raw json.RawMessage) (*Method, error) {
	var mj methodJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&mj); err != nil {
		return nil, err
	}
	if mj.Method != "" && mj.Method != httpMethod {
		return nil, fmt.Errorf("info says method %s", mj.Method)
	}
	m := &Method{
		Path:        path,
		HTTPMethod:  httpMethod,
		Name:        mj.Name,
		Description: mj.Description,
		// allowtoken defaults to 1 in PVE's method schema.
		AllowToken:           len(mj.AllowToken) == 0 || perlTrue(mj.AllowToken),
		Protected:            perlTrue(mj.Protected),
		ProxyTo:              mj.ProxyTo,
		Download:             perlTrue(mj.DownloadAllowed),
		Returns:              mj.Returns,
		Permissions:          mj.Permissions,
		AdditionalProperties: perlTrue(mj.Parameters.AdditionalProperties),
		params:               map[string]*Property{},
	}
	var ret struct {
		Type string `json:"type"`
	}
	if len(mj.Returns) > 0 {
		if err := json.Unmarshal(mj.Returns, &ret); err != nil {
			return nil, fmt.Errorf("returns: %w", err)
		}
		m.ReturnType = ret.Type
	}
	for name, praw := range mj.Parameters.Properties {
		p, err := parseProperty(name, praw, true)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		m.names = append(m.names, name)
		if prefix, ok := strings.CutSuffix(name, "[n]"); ok {
			count := indexedCounts[prefix]
			if count == 0 {
				return nil, fmt.Errorf("parameter %s: unknown index range", name)
			}
			if !p.Optional {
				return nil, fmt.Errorf("parameter %s: indexed parameters must be optional", name)
			}
			m.indexed = append(m.indexed, &indexedParam{prefix: prefix, count: count, prop: p})
			continue
		}
		m.params[name] = p
	}
	sort.Strings(m.names)
	return m, nil
}

// Param returns the schema of a parameter. Indexed names such as "net0"
// resolve to their template, which is also found by its schema name
// ("net[n]"); "net32" does not exist.
func (m *Method) Param(name string) (*Property, bool) {
	if p, ok := m.params[name]; ok {
		return p, true
	}
	if prefix, ok := strings.CutSuffix(name, "[n]"); ok {
		for _, ip := range m.indexed {
			if ip.prefix == prefix {
				return ip.prop, true
			}
		}
		return nil, false
	}
	p := matchIndexed(m.indexed, name)
	return p, p != nil
}

// ParamNames lists the parameters in schema notation ("net[n]"), sorted.
func (m *Method) ParamNames() []string { return append([]string(nil), m.names...) }

// String names the method as PVE's 501 message does: "GET /nodes/{node}".
func (m *Method) String() string { return m.HTTPMethod + " " + m.Path }

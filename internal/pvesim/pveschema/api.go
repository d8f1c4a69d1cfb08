package pveschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// API is the parsed schema: every method of every path, a router that maps
// request paths onto path templates, and the LXC config keys.
type API struct {
	methods []*Method
	root    *route
	config  *Method
}

// configPath is the method whose parameters define the LXC config keys.
const configPath = "/nodes/{node}/lxc/{vmid}/config"

// configMethodOnly are parameters of the config PUT that are request
// controls, not keys stored in a container's config.
var configMethodOnly = map[string]bool{"node": true, "vmid": true, "delete": true, "revert": true, "digest": true}

type schemaFile struct {
	Endpoints map[string]struct {
		Methods map[string]json.RawMessage `json:"methods"`
	} `json:"endpoints"`
}

// Parse reads a schema in the lxc-subset.json layout. It fails on anything
// the validator could not apply faithfully: unknown formats, patterns Go
// cannot compile, unsupported constructs.
func Parse(data []byte) (*API, error) {
	var file schemaFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("decode schema: %w", err)
	}
	if len(file.Endpoints) == 0 {
		return nil, fmt.Errorf("schema has no endpoints")
	}
	api := &API{root: &route{}}
	paths := make([]string, 0, len(file.Endpoints))
	for p := range file.Endpoints {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		httpMethods := make([]string, 0, len(file.Endpoints[path].Methods))
		for hm := range file.Endpoints[path].Methods {
			httpMethods = append(httpMethods, hm)
		}
		sort.Strings(httpMethods)
		for _, hm := range httpMethods {
			m, err := parseMethod(path, hm, file.Endpoints[path].Methods[hm])
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", hm, path, err)
			}
			if err := api.root.add(path, m); err != nil {
				return nil, err
			}
			api.methods = append(api.methods, m)
			if path == configPath && hm == "PUT" {
				api.config = m
			}
		}
	}
	if api.config == nil {
		return nil, fmt.Errorf("schema has no PUT %s (the LXC config keys)", configPath)
	}
	return api, nil
}

// Methods lists every method of the schema, ordered by path and HTTP method.
// Conformance tests iterate it instead of naming methods by hand.
func (a *API) Methods() []*Method { return append([]*Method(nil), a.methods...) }

// Lookup finds the method serving an HTTP method and a path relative to
// /api2/json (e.g. "/nodes/pve/lxc/100/config") and returns the values of
// the path's template parameters. ok is false when PVE would answer 501
// "Method 'GET /nodes/pve/foo' not implemented".
func (a *API) Lookup(method, path string) (m *Method, pathParams map[string]string, ok bool) {
	return a.root.lookup(method, path)
}

// ConfigKey returns the schema of an LXC config key as the config PUT
// defines it: "hostname", "rootfs", or an indexed key such as "net0", "mp3",
// "unused0" or "dev1" (which resolve to net[n], mp[n], unused[n], dev[n]).
// The returned Property is bound to key, so its errors name "net0.ip".
func (a *API) ConfigKey(key string) (*Property, bool) {
	if configMethodOnly[key] {
		return nil, false
	}
	p, ok := a.config.Param(key)
	if !ok {
		return nil, false
	}
	if p.Key == key {
		return p, true
	}
	bound := *p
	bound.Key = key
	return &bound, true
}

// ConfigKeys lists the config keys in schema notation ("net[n]" for the
// indexed ones), sorted.
func (a *API) ConfigKeys() []string {
	var keys []string
	for _, name := range a.config.ParamNames() {
		if !configMethodOnly[name] {
			keys = append(keys, name)
		}
	}
	return keys
}

// splitPath splits a request path the way PVE's router does: on runs of
// "/", ignoring empty fragments.
func splitPath(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
}

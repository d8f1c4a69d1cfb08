package pveschema

import (
	"fmt"
	"strings"
)

// route is one level of the path tree. Like PVE's router, a level has
// either fixed names or a single template parameter, never both.
type route struct {
	fixed   map[string]*route
	param   string
	child   *route // the subtree below a template parameter
	greedy  bool   // the parameter takes the rest of the path
	methods map[string]*Method
}

// greedyParams take every remaining path fragment, slashes included. PVE
// registers storage content with fragmentDelimiter ” because volume IDs
// ("local:vztmpl/debian.tar.zst") contain "/".
var greedyParams = map[string]bool{"volume": true}

func (r *route) add(template string, m *Method) error {
	node := r
	for _, comp := range splitPath(template) {
		if strings.HasPrefix(comp, "{") && strings.HasSuffix(comp, "}") {
			name := comp[1 : len(comp)-1]
			if node.fixed != nil || (node.child != nil && node.param != name) {
				return fmt.Errorf("path %s: template parameter {%s} clashes with another entry at the same level", template, name)
			}
			if node.child == nil {
				node.param, node.child, node.greedy = name, &route{}, greedyParams[name]
			}
			node = node.child
			continue
		}
		if node.child != nil {
			return fmt.Errorf("path %s: %q clashes with template parameter {%s}", template, comp, node.param)
		}
		if node.fixed == nil {
			node.fixed = map[string]*route{}
		}
		next := node.fixed[comp]
		if next == nil {
			next = &route{}
			node.fixed[comp] = next
		}
		node = next
	}
	if node.methods == nil {
		node.methods = map[string]*Method{}
	}
	if node.methods[m.HTTPMethod] != nil {
		return fmt.Errorf("duplicate method %s %s", m.HTTPMethod, template)
	}
	node.methods[m.HTTPMethod] = m
	return nil
}

func (r *route) lookup(method, path string) (*Method, map[string]string, bool) {
	comps := splitPath(path)
	node := r
	var params map[string]string
	for i := 0; i < len(comps); i++ {
		comp := comps[i]
		if node.child != nil {
			if node.greedy {
				comp = strings.Join(comps[i:], "/")
				i = len(comps)
			}
			// PVE matches template parameters with \S+.
			if strings.ContainsAny(comp, " \t\n\r\f\v") {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[node.param] = comp
			node = node.child
			continue
		}
		node = node.fixed[comp]
		if node == nil {
			return nil, nil, false
		}
	}
	m := node.methods[method]
	if m == nil {
		return nil, nil, false
	}
	if params == nil {
		params = map[string]string{}
	}
	return m, params, true
}

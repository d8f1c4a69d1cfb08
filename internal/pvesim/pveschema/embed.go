package pveschema

import (
	_ "embed"
	"sync"
)

// schemaJSON is PVE's LXC API subset, copied unchanged from the project's
// shared material; SOURCE.md records where it comes from and its sha256.
//
//go:embed lxc-subset.json
var schemaJSON []byte

var (
	defaultOnce sync.Once
	defaultAPI  *API
)

// Default returns the API parsed from the embedded schema. It is parsed once
// per process; a schema that does not parse is a build defect (a test parses
// it), so Default panics rather than returning an error every caller would
// have to handle.
func Default() *API {
	defaultOnce.Do(func() {
		api, err := Parse(schemaJSON)
		if err != nil {
			panic("pveschema: embedded lxc-subset.json: " + err.Error())
		}
		defaultAPI = api
	})
	return defaultAPI
}

package pveschema

import (
	_ "embed"
	"strings"
	"sync"
)

// zoneTabText lists the names of tzdata's zone.tab, the file PVE reads to
// validate a container's time zone.
//
//go:embed zone-tab-names.txt
var zoneTabText string

var zoneTabNames = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(zoneTabText, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			names[line] = true
		}
	}
	return names
})

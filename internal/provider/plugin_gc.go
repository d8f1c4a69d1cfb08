package provider

import (
	"os"
	"runtime/debug"
)

// The provider process lives for one terraform command and allocates
// heavily while the plugin framework converts every value of every resource
// on every request; with Go's default GOGC of 100 the collector ran on a
// small heap several times per resource and cost about a fifth of a plan's
// provider CPU. A larger target trades memory for CPU: a no-change plan of
// 100 containers peaked at about 130 MiB instead of 55 MiB. The memory limit
// makes the collector work harder again only where a very large state would
// need it, so the heap stays bounded.
const (
	pluginGCPercent   = 400
	pluginMemoryLimit = 1 << 30
)

// TuneGarbageCollector applies the provider's collector settings unless
// GOGC or GOMEMLIMIT says otherwise.
func TuneGarbageCollector() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(pluginGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(pluginMemoryLimit)
	}
}

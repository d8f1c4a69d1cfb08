package provider

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGarbageCollectorRespectsTheEnvironment(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "64MiB")
	debug.SetGCPercent(150)
	TuneGarbageCollector()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC set: the provider changed the GC percent to %d", got)
	}

	unsetenv(t, "GOGC")
	unsetenv(t, "GOMEMLIMIT")
	TuneGarbageCollector()
	if got := debug.SetGCPercent(100); got != pluginGCPercent {
		t.Errorf("GC percent %d, want %d", got, pluginGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != pluginMemoryLimit {
		t.Errorf("memory limit %d, want %d", got, pluginMemoryLimit)
	}
}

// unsetenv removes a variable for the rest of the test (t.Setenv first, so
// the test framework restores it afterwards).
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

package pveschema

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"testing"
)

// TestEmbeddedSchemaMatchesProvenance keeps the embedded file byte-identical
// to the one SOURCE.md describes.
func TestEmbeddedSchemaMatchesProvenance(t *testing.T) {
	sum := sha256.Sum256(schemaJSON)
	got := hex.EncodeToString(sum[:])
	source, err := os.ReadFile("SOURCE.md")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile("embedded sha256\\s+`([0-9a-f]{64})`").FindSubmatch(source)
	if want == nil {
		t.Fatal("SOURCE.md has no sha256 for lxc-subset.json")
	}
	if got != string(want[1]) {
		t.Errorf("embedded lxc-subset.json sha256 = %s, SOURCE.md says %s", got, want[1])
	}
	if got != "9137718f4ec9f8a1161010c03b6943849a68ff7454445c0c8db65b2ce2353e58" {
		t.Errorf("embedded lxc-subset.json sha256 = %s, not the shared schema plus the additions SOURCE.md lists", got)
	}
}

// TestDefaultParsesEmbeddedSchema covers the parse Default relies on: every
// path and method of the subset, no format or pattern left unresolved.
func TestDefaultParsesEmbeddedSchema(t *testing.T) {
	api, err := Parse(schemaJSON)
	if err != nil {
		t.Fatalf("Parse(embedded schema): %v", err)
	}
	if n := len(api.Methods()); n != 63 {
		t.Errorf("methods = %d, want the subset's 63", n)
	}
	paths := map[string]bool{}
	for _, m := range api.Methods() {
		paths[m.Path] = true
	}
	if len(paths) != 48 {
		t.Errorf("paths with methods = %d, want 48", len(paths))
	}
	first, second := Default(), Default()
	if first != second {
		t.Error("Default must parse once and return the same API")
	}
}

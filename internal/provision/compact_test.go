package provision

import (
	"maps"
	"strings"
	"testing"
)

// A compact spec (digests, no content) plans exactly like the spec with its
// content, can be checked for drift, and refuses to build a run that would
// need content it does not have.
func TestCompactSpecs(t *testing.T) {
	loaded := baseSpec(t)
	compact := loaded
	compact.Source = "templates/base"
	compact = compact.Compact()
	if compact.Scripts[0].Content != "" || compact.Files[1].Content != "" {
		t.Fatal("Compact kept content")
	}
	if !maps.Equal(Desired(compact), Desired(loaded)) {
		t.Fatalf("digests differ:\ncompact %v\nloaded  %v", Desired(compact), Desired(loaded))
	}

	applied := Desired(loaded)
	unchanged, err := NewRun(Request{Spec: compact, Applied: applied})
	if err != nil {
		t.Fatal(err)
	}
	if !unchanged.Empty() {
		t.Error("a compact spec with nothing changed plans a run")
	}
	delete(applied, ScriptKey("10-user.sh"))
	pending, err := NewRun(Request{Spec: compact, Applied: applied})
	if err != nil {
		t.Fatal(err)
	}
	if pending.Empty() {
		t.Fatal("a script never applied must plan a run")
	}
	if _, err := pending.Stdin(); err == nil || !strings.Contains(err.Error(), "script:10-user.sh") || !strings.Contains(err.Error(), "not loaded") {
		t.Errorf("Stdin of a run without content: %v", err)
	}
	if run, err := NewRun(Request{Spec: loaded, Applied: applied}); err != nil {
		t.Fatal(err)
	} else if _, err := run.Stdin(); err != nil {
		t.Errorf("the same run with content loaded: %v", err)
	}
	if _, err := NewCheck(compact, Desired(loaded)).Stdin(); err != nil {
		t.Errorf("a drift check needs no content: %v", err)
	}
}

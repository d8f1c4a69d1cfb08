package templatedir

import (
	"reflect"
	"strings"
	"testing"
)

func TestSpecJSONRoundTrip(t *testing.T) {
	s := sampleSpec()
	s.Source = "templates/web"
	s.Scripts[0].SHA256 = sha256Hex([]byte(s.Scripts[0].Content))
	s.Files[0].SHA256 = sha256Hex([]byte(s.Files[0].Content))
	s.SHA256 = s.ComputeDigest()
	doc, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(doc, `"content"`) || strings.Contains(doc, "echo") || strings.Contains(doc, "\n") {
		t.Errorf("the document of a spec with a source must be compact, on one line: %s", doc)
	}
	back, err := ParseJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := s.Compact(); !reflect.DeepEqual(back, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, want)
	}
	again, _ := back.JSON()
	if again != doc {
		t.Errorf("encoding is not stable:\n%s\n%s", doc, again)
	}

	inline := sampleSpec() // no source: content stays
	doc, _ = inline.JSON()
	if back, err := ParseJSON(doc); err != nil || back.Scripts[0].Content != "echo\n" || back.Files[0].Content != "c" {
		t.Errorf("inline content lost: %v %+v", err, back)
	}
}

func TestParseJSON(t *testing.T) {
	for _, tc := range []struct {
		name, doc, err string
		check          func(Spec) bool
	}{
		{"a script is enabled unless it says otherwise", `{"name":"x","scripts":[{"name":"a.sh","content":"true"}]}`, "",
			func(s Spec) bool { return s.Scripts[0].Enabled }},
		{"disabled explicitly", `{"name":"x","scripts":[{"name":"a.sh","enabled":false}]}`, "",
			func(s Spec) bool { return !s.Scripts[0].Enabled }},
		{"a misspelt attribute", `{"name":"x","script":[]}`, `the spec has no attribute "script"`, nil},
		{"a misspelt script attribute", `{"scripts":[{"title":"a.sh"}]}`, `the spec has no attribute "title"`, nil},
		{"a wrong type names its place", `{"defaults":{"memory":"lots"}}`, "defaults.memory must be a whole number, not a JSON string", nil},
		{"inside a script", `{"scripts":[{"name":"a.sh","order":"ten"}]}`, "scripts.order must be a whole number, not a JSON string", nil},
		{"not an object", `["x"]`, "the spec must be a JSON object, not a JSON array", nil},
		{"not JSON", `{"name":`, "not valid JSON", nil},
		{"two documents", `{} {}`, "followed by more JSON", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseJSON(tc.doc)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("err = %v, want %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Errorf("err = %v", err)
			case tc.check != nil && !tc.check(s):
				t.Errorf("parsed %+v", s)
			}
		})
	}
}

// A spec's golden image travels in its document and is read back; it is
// not part of the digest, which identifies what is applied to a container.
func TestSpecImage(t *testing.T) {
	spec := sampleSpec()
	spec.SHA256 = spec.ComputeDigest()
	withImage := spec
	withImage.Image = &Image{Node: "pve", VMID: 9000, Storage: "local-lvm", Clone: CloneLinked, Rerun: []string{"script:20-secret.sh"}}
	if got := withImage.ComputeDigest(); got != spec.SHA256 {
		t.Errorf("the image changed the digest: %s != %s", got, spec.SHA256)
	}
	doc, err := withImage.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if back.Image == nil || !reflect.DeepEqual(back.Image, withImage.Image) {
		t.Errorf("image after a round trip: %+v", back.Image)
	}
	plain, err := spec.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, `"image"`) {
		t.Errorf("a spec without an image has an image attribute: %s", plain)
	}
	if _, err := ParseJSON(`{"name":"x","image":{"vmid":1,"nodes":"pve"}}`); err == nil || !strings.Contains(err.Error(), "nodes") {
		t.Errorf("a misspelt image attribute: %v", err)
	}
}

package provider

import "testing"

func TestSameOSTemplate(t *testing.T) {
	if !sameOSTemplate("debian-12-standard", "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst") {
		t.Error("an appliance name and its volid name the same image")
	}
	if sameOSTemplate("debian-12-standard", "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst") {
		t.Error("debian 12 and 13 are different images")
	}
}

func TestDescriptionsCompareAsPVEStoresThem(t *testing.T) {
	for _, pair := range [][2]string{{"hello", "hello\n"}, {"a\n\nb", "a\nb\n"}, {"x\r\n", "x"}} {
		if !normalizeDescriptionText.equal(pair[0], pair[1]) {
			t.Errorf("%q and %q must compare equal", pair[0], pair[1])
		}
	}
	if normalizeDescriptionText.equal("a", "b") {
		t.Error("different descriptions compared equal")
	}
}

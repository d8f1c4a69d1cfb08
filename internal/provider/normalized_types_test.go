package provider

import "testing"

func TestSameOSTemplate(t *testing.T) {
	if !sameOSTemplate("debian-12-standard", "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst") {
		t.Error("an appliance name and its volid name the same image")
	}
	if sameOSTemplate("debian-12-standard", "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst") {
		t.Error("debian 12 and 13 are different images")
	}
	const v1 = "https://images.example/os/custom_1.0_amd64.tar.zst"
	for _, same := range []string{"local:vztmpl/custom_1.0_amd64.tar.zst", "custom", "https://mirror.example/custom_1.0_amd64.tar.zst?t=1"} {
		if !sameOSTemplate(v1, same) || !sameOSTemplate(same, v1) {
			t.Errorf("%s and %s name the same file on the node", v1, same)
		}
	}
	for _, other := range []string{"https://images.example/os/custom_2.0_amd64.tar.zst", "local:vztmpl/custom_2.0_amd64.tar.zst", "debian-12-standard"} {
		if sameOSTemplate(v1, other) {
			t.Errorf("%s and %s are different images", v1, other)
		}
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

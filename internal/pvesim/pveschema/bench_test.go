package pveschema

import "testing"

// BenchmarkValidateCreate measures the validation of a typical
// POST /nodes/{node}/lxc request (form values, property strings included).
func BenchmarkValidateCreate(b *testing.B) {
	m, pathParams, ok := Default().Lookup("POST", "/nodes/pve/lxc")
	if !ok {
		b.Fatal("POST /nodes/pve/lxc not found")
	}
	params := createParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := m.ValidateWithPath(pathParams, params); errs != nil {
			b.Fatal(errs)
		}
	}
}

// BenchmarkLookup measures routing a config path.
func BenchmarkLookup(b *testing.B) {
	api := Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := api.Lookup("PUT", "/nodes/pve/lxc/100/config"); !ok {
			b.Fatal("not found")
		}
	}
}

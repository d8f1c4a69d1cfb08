package pvesim

import "testing"

func TestPathPatterns(t *testing.T) {
	tests := []struct {
		pattern, path string
		match         bool
	}{
		{"/nodes/*/lxc", "/nodes/pve/lxc", true},
		{"/nodes/*/lxc", "/nodes/pve/lxc/100", false},
		{"/nodes/*/lxc/**", "/nodes/pve/lxc/100/status/current", true},
		{"/api2/json/version", "/version", true},
		{"re:/status/", "/nodes/pve/lxc/100/status/start", true},
		{"re:^/version$", "/versions", false},
	}
	for _, tc := range tests {
		re, err := compilePathPattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if re.MatchString(tc.path) != tc.match {
			t.Errorf("%q ~ %q = %v, want %v", tc.pattern, tc.path, !tc.match, tc.match)
		}
	}
}

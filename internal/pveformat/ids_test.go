package pveformat

import (
	"strings"
	"testing"
)

func TestValidateStorageID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string
	}{
		{"local", ""},
		{"local-lvm", ""},
		{"nfs.backup_2", ""},
		{"Ceph-Pool", ""}, // parse_id matches case-insensitively
		{"ab", ""},
		{"a", "too short"},
		{"", "too short"},
		{"local-lvm,ro=1", "not a valid Proxmox VE storage ID"},
		{"local lvm", "not a valid"},
		{"1local", "not a valid"},
		{"local-", "not a valid"},
		{"local\n", "not a valid"},
		{"loc:al", "not a valid"},
		{"lokál", "not a valid"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			checkValidation(t, ValidateStorageID(tc.id), tc.wantErr, tc.id)
		})
	}
}

func TestValidateBridgeName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"vmbr0", ""},
		{"vnet-100", ""},
		{"br_lan.10", ""},
		{"", "empty"},
		{"vmbr0,tag=666", "not a valid Proxmox VE bridge"},
		{"vmbr0,tag=666,rate=1", "not a valid"},
		{"vmbr 0", "not a valid"},
		{"vmbr0\n", "not a valid"},
		{"vmbr0=1", "not a valid"},
		{"brücke", "not a valid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkValidation(t, ValidateBridgeName(tc.name), tc.wantErr, tc.name)
		})
	}
}

func TestValidateMountPath(t *testing.T) {
	tests := []struct {
		path    string
		wantErr string
	}{
		{"/srv", ""},
		{"/srv/data/", ""},
		{"/srv/a=b", ""},
		{"/srv/.hidden/..dots", ""},
		{"/", ""},
		{"", "empty"},
		{"srv", "absolute"},
		{"../srv", "absolute"},
		{"/srv,ro=1", `contains ","`},
		{"/srv\nro=1", "control character"},
		{"/srv\tx", "control character"},
		{"/srv/../etc", `"." or ".." element`},
		{"/srv/./x", `"." or ".." element`},
		{"/srv/..", `"." or ".." element`},
		{"/srv/.", `"." or ".." element`},
		{"/srv/\xff", "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			checkValidation(t, ValidateMountPath(tc.path), tc.wantErr, tc.path)
		})
	}
}

// checkValidation asserts an error containing wantErr (and the quoted
// value, so the user sees what was refused), or none when wantErr is "".
func checkValidation(t *testing.T, err error, wantErr, value string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("refused a valid value: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted %q, want an error containing %q", value, wantErr)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("error %q does not contain %q", err, wantErr)
	}
	if value != "" && !strings.Contains(err.Error(), quoteValue(value)) {
		t.Errorf("error %q does not quote the value %s", err, quoteValue(value))
	}
}

package lxcconf

import (
	"slices"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

func TestCheckSnapshots(t *testing.T) {
	storages := []pveapi.Storage{
		{Storage: "local", Type: "dir"},
		{Storage: "local-lvm", Type: "lvmthin"},
		{Storage: "tank", Type: "zfspool"},
		{Storage: "vendor", Type: "fancyplugin"},
	}
	observed := func(rootfs string, mps map[string]MountPoint) Settings {
		s := baseSettings()
		s.RootfsVolume = rootfs
		s.Storage = rootfs[:len(rootfs)-len(":vm-100-disk-0")]
		s.MountPoints = mps
		return s
	}
	for _, tc := range []struct {
		name             string
		s                Settings
		blockers, unsure []string
	}{
		{name: "lvm-thin rootfs", s: observed("local-lvm:vm-100-disk-0", nil)},
		{
			name: "volumes on snapshot storages",
			s: observed("tank:vm-100-disk-0", map[string]MountPoint{
				"mp0": {Storage: "local-lvm", Volume: "local-lvm:vm-100-disk-1"},
			}),
		},
		{
			name:     "raw rootfs on a dir storage",
			s:        observed("local:vm-100-disk-0", nil),
			blockers: []string{`rootfs on storage "local" (dir)`},
		},
		{
			name: "bind mount, unknown plugin, unlisted storage",
			s: observed("local-lvm:vm-100-disk-0", map[string]MountPoint{
				"mp0": {Storage: "/srv/data", Volume: "/srv/data"},
				"mp1": {Storage: "vendor", Volume: "vendor:vm-100-disk-1"},
				"mp2": {Storage: "gone", Volume: "gone:vm-100-disk-2"},
			}),
			blockers: []string{"mp0, a bind or device mount of /srv/data"},
			unsure:   []string{`mp1 on storage "vendor" (fancyplugin)`, `mp2 on storage "gone", which the node does not list`},
		},
		{
			// A plan names storages only: volumes are not allocated yet.
			name: "planned settings",
			s: func() Settings {
				s := baseSettings()
				s.Storage = "local"
				s.MountPoints["mp0"] = MountPoint{Storage: "local-lvm", SizeGiB: 1}
				return s
			}(),
			blockers: []string{`rootfs on storage "local" (dir)`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckSnapshots(tc.s, storages)
			if !slices.Equal(got.Blockers, tc.blockers) || !slices.Equal(got.Unsure, tc.unsure) {
				t.Errorf("CheckSnapshots = %+v, want blockers %q, unsure %q", got, tc.blockers, tc.unsure)
			}
			if got.Possible() != (len(tc.blockers) == 0) {
				t.Errorf("Possible() = %v with blockers %q", got.Possible(), got.Blockers)
			}
		})
	}
}

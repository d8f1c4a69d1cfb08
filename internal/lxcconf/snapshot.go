package lxcconf

import (
	"fmt"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// SnapshotCheck is what a container's volumes say, before any task runs,
// about whether Proxmox VE can snapshot it: PVE's own check
// (has_feature('snapshot') in the snapshot task) looks at the same volumes
// and refuses when one of them cannot be snapshotted.
type SnapshotCheck struct {
	// Blockers describe the volumes Proxmox VE cannot snapshot, e.g.
	// `rootfs on storage "local" (dir)` or `mp1, a bind mount of /srv`.
	Blockers []string
	// Unsure describe the volumes whose storage does not tell: a type
	// pveapi does not know, or a storage missing from the node's list.
	Unsure []string
}

// Possible reports whether no volume is known to prevent a snapshot; a
// snapshot task still decides when Unsure is not empty.
func (c SnapshotCheck) Possible() bool { return len(c.Blockers) == 0 }

// CheckSnapshots judges the rootfs and mount points of s (planned settings
// or what GET …/config reports) by the types of the node's storages.
func CheckSnapshots(s Settings, storages []pveapi.Storage) SnapshotCheck {
	byID := make(map[string]pveapi.Storage, len(storages))
	for _, st := range storages {
		byID[st.Storage] = st
	}
	var c SnapshotCheck
	judge := func(key, volume, storage string) {
		if strings.HasPrefix(volume, "/") {
			c.Blockers = append(c.Blockers, fmt.Sprintf("%s, a bind or device mount of %s", key, volume))
			return
		}
		st, ok := byID[storage]
		if !ok {
			c.Unsure = append(c.Unsure, fmt.Sprintf("%s on storage %q, which the node does not list", key, storage))
			return
		}
		switch supported, known := st.SnapshotsContainerVolumes(); {
		case !known:
			c.Unsure = append(c.Unsure, fmt.Sprintf("%s on storage %q (%s)", key, storage, st.Type))
		case !supported:
			c.Blockers = append(c.Blockers, fmt.Sprintf("%s on storage %q (%s)", key, storage, st.Type))
		}
	}
	judge("rootfs", s.RootfsVolume, s.Storage)
	for _, slot := range sortedSlots(s.MountPoints) {
		mp := s.MountPoints[slot]
		judge(slot, mp.Volume, mp.Storage)
	}
	return c
}

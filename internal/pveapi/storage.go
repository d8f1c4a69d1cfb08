package pveapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Storage is one entry of GET /nodes/{node}/storage.
type Storage struct {
	Storage      string  `json:"storage"`
	Type         string  `json:"type"`    // dir, lvmthin, zfspool, …
	Content      string  `json:"content"` // "rootdir,images,vztmpl"
	Active       bool    `json:"active"`
	Enabled      bool    `json:"enabled"`
	Shared       bool    `json:"shared"`
	Total        int64   `json:"total"`
	Used         int64   `json:"used"`
	Avail        int64   `json:"avail"`
	UsedFraction float64 `json:"used_fraction"`
}

// SnapshotsContainerVolumes says whether Proxmox VE can snapshot the
// container volumes (rootfs, mount points) this storage holds, from its
// type; known is false for a type this client does not know (a third-party
// plugin), where only a snapshot task can tell. LVM-thin, ZFS, Ceph RBD and
// BTRFS snapshot them. Directory-like storages (dir, nfs, cifs, glusterfs,
// cephfs) snapshot only qcow2 files, and container volumes there are raw
// files or subvolumes; thick LVM and iSCSI LUNs do not snapshot them either.
func (s Storage) SnapshotsContainerVolumes() (supported, known bool) {
	switch s.Type {
	case "lvmthin", "zfspool", "zfs", "rbd", "btrfs":
		return true, true
	case "dir", "nfs", "cifs", "glusterfs", "cephfs", "lvm", "iscsi", "iscsidirect", "pbs", "esxi":
		return false, true
	}
	return false, false
}

// LinksContainerClones says whether Proxmox VE can make linked clones of a
// container template's volumes on this storage, from its type; known is
// false for a type this client does not know. LVM-thin, ZFS, Ceph RBD and
// BTRFS clone a base volume copy-on-write. On directory-like storages a
// linked clone would be a qcow2 image, which containers cannot use ("Linked
// clone feature for … is not available"); thick LVM and iSCSI have none.
func (s Storage) LinksContainerClones() (supported, known bool) {
	switch s.Type {
	case "lvmthin", "zfspool", "rbd", "btrfs":
		return true, true
	case "dir", "nfs", "cifs", "glusterfs", "cephfs", "lvm", "iscsi", "iscsidirect", "zfs", "pbs", "esxi":
		return false, true
	}
	return false, false
}

// FindStorage returns the storage id of node; a storage the node does not
// have matches ErrNotFound.
func (c *Client) FindStorage(ctx context.Context, node, id string) (Storage, error) {
	all, err := c.ListStorage(ctx, node, "")
	if err != nil {
		return Storage{}, err
	}
	for _, s := range all {
		if s.Storage == id {
			return s, nil
		}
	}
	return Storage{}, fmt.Errorf("storage %q on node %s: %w", id, node, ErrNotFound)
}

// Holds says whether the storage takes content of a type ("vztmpl",
// "rootdir").
func (s Storage) Holds(content string) bool {
	return slices.Contains(strings.Split(s.Content, ","), content)
}

// ListStorage lists a node's storages; content ("vztmpl", "rootdir", …)
// filters by content type, empty means all.
func (c *Client) ListStorage(ctx context.Context, node, content string) ([]Storage, error) {
	var params *Params
	if content != "" {
		params = NewParams().Set("content", content)
	}
	var out []Storage
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "storage"), params, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// StorageVolume is one entry of GET .../storage/{storage}/content.
type StorageVolume struct {
	VolID     string `json:"volid"` // "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
	Content   string `json:"content"`
	Format    string `json:"format"` // tzst, tgz, raw, subvol, …
	Size      int64  `json:"size"`
	Used      int64  `json:"used"`
	CTime     int64  `json:"ctime"`
	VMID      int    `json:"vmid"`
	Notes     string `json:"notes"`
	Protected bool   `json:"protected"`
}

// StorageContent lists the volumes of a storage; content filters by type
// (e.g. "vztmpl"), empty means all.
func (c *Client) StorageContent(ctx context.Context, node, storage, content string) ([]StorageVolume, error) {
	var params *Params
	if content != "" {
		params = NewParams().Set("content", content)
	}
	var out []StorageVolume
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "storage", storage, "content"), params, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteVolumeAsync deletes a volume by its volume id. Current PVE answers
// with a task (imgdel); older versions delete synchronously and answer null,
// in which case the returned UPID is "".
func (c *Client) DeleteVolumeAsync(ctx context.Context, node, storage, volid string) (string, error) {
	var upid string
	err := c.Do(ctx, http.MethodDelete, apiPath("nodes", node, "storage", storage, "content", volid), nil, &upid)
	c.lookups.invalidate(node, storage)
	return upid, err
}

// DeleteVolume deletes a volume and waits for the task, if there is one
// (the result is then nil).
func (c *Client) DeleteVolume(ctx context.Context, node, storage, volid string) (*TaskResult, error) {
	upid, err := c.DeleteVolumeAsync(ctx, node, storage, volid)
	if err != nil || upid == "" {
		return nil, err
	}
	// The volume is gone only once the task ends.
	defer c.lookups.invalidate(node, storage)
	return c.WaitTask(ctx, upid)
}

// Appliance is one entry of the appliance index (GET /nodes/{node}/aplinfo).
type Appliance struct {
	Template     string `json:"template"` // "debian-12-standard_12.7-1_amd64.tar.zst"
	Type         string `json:"type"`     // "lxc"
	Package      string `json:"package"`  // "debian-12-standard"
	Version      string `json:"version"`
	OS           string `json:"os"`
	Section      string `json:"section"`
	Headline     string `json:"headline"`
	Description  string `json:"description"`
	Location     string `json:"location"`
	InfoPage     string `json:"infopage"`
	Maintainer   string `json:"maintainer"`
	Architecture string `json:"architecture"`
	SHA512Sum    string `json:"sha512sum"`
	MD5Sum       string `json:"md5sum"`
	Source       string `json:"source"`
	ManageURL    string `json:"manageurl"`
}

// Appliances lists the appliance templates a node can download.
func (c *Client) Appliances(ctx context.Context, node string) ([]Appliance, error) {
	var out []Appliance
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "aplinfo"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// DownloadApplianceAsync downloads an appliance template (its file name, as
// in Appliance.Template) to a storage (POST /nodes/{node}/aplinfo). An
// unknown template matches ErrNotFound (PVE: 400 "no such template").
func (c *Client) DownloadApplianceAsync(ctx context.Context, node, storage, template string) (string, error) {
	p := NewParams().Set("storage", storage).Set("template", template)
	upid, err := c.postTask(ctx, http.MethodPost, apiPath("nodes", node, "aplinfo"), p)
	c.lookups.invalidate(node, storage)
	return upid, err
}

// DownloadAppliance downloads an appliance template and waits for the task.
func (c *Client) DownloadAppliance(ctx context.Context, node, storage, template string) (*TaskResult, error) {
	// The image is there only once the task ends.
	defer c.lookups.invalidate(node, storage)
	return c.waitFor(c.DownloadApplianceAsync(ctx, node, storage, template))(ctx)
}

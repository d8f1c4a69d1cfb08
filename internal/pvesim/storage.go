package pvesim

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// StorageConfig is one storage of every node, like an entry of storage.cfg.
type StorageConfig struct {
	ID      string
	Type    string   // "dir" or "lvmthin" (the types the simulator allocates volumes on)
	Content []string // content types, sorted: "vztmpl", "rootdir", …
	Path    string   // dir storages: the directory on the node
	Total   int64    // capacity in bytes
}

// DefaultStorages are a stock PVE install's storages: "local" (a directory
// for templates, ISOs, backups and snippets, no container volumes) and
// "local-lvm" (LVM-thin for container and VM volumes). Config.Storages
// replaces them; append to these to add a storage.
func DefaultStorages() []StorageConfig {
	return []StorageConfig{
		{ID: "local", Type: "dir", Content: []string{"backup", "iso", "snippets", "vztmpl"}, Path: "/var/lib/vz", Total: 100 * pveformat.GiB},
		{ID: "local-lvm", Type: "lvmthin", Content: []string{"images", "rootdir"}, Total: 200 * pveformat.GiB},
	}
}

// validateStorages checks Config.Storages: unique valid ids, types the
// simulator can allocate on, a path for dir storages.
func validateStorages(storages []StorageConfig) error {
	seen := map[string]bool{}
	for _, sc := range storages {
		switch {
		case pveformat.ValidateStorageID(sc.ID) != nil:
			return fmt.Errorf("storage %q: an id is a letter, then letters, digits, '-', '_' or '.', ending in a letter or digit", sc.ID)
		case seen[sc.ID]:
			return fmt.Errorf("storage %q is configured twice", sc.ID)
		case sc.Type != "dir" && sc.Type != "lvmthin":
			return fmt.Errorf("storage %q: type %q is not simulated; use dir or lvmthin", sc.ID, sc.Type)
		case sc.Type == "dir" && !filepath.IsAbs(sc.Path):
			return fmt.Errorf("storage %q: a dir storage needs an absolute path", sc.ID)
		case sc.Total <= 0:
			return fmt.Errorf("storage %q: the capacity (Total) must be positive", sc.ID)
		}
		seen[sc.ID] = true
	}
	return nil
}

func (sc StorageConfig) has(content string) bool { return slices.Contains(sc.Content, content) }

func (s *Server) storage(id string) (StorageConfig, bool) {
	for _, sc := range s.storages {
		if sc.ID == id {
			return sc, true
		}
	}
	return StorageConfig{}, false
}

// storageOrErr is storage_check_enabled's "does not exist".
func (s *Server) storageOrErr(id string) (StorageConfig, *apiError) {
	sc, ok := s.storage(id)
	if !ok {
		return sc, errf("storage '%s' does not exist", id)
	}
	return sc, nil
}

// volume is one volume on a node's storage.
type volume struct {
	Node    string `json:"node"`
	Storage string `json:"storage"`
	VolID   string `json:"volid"`
	Content string `json:"content"` // vztmpl, rootdir
	Format  string `json:"format"`  // raw, tzst, txz, ...
	Size    int64  `json:"size"`
	VMID    int    `json:"vmid,omitempty"`
	CTime   int64  `json:"ctime"`
	File    string `json:"file,omitempty"`   // vztmpl: path inside the node's filesystem directory
	Parent  string `json:"parent,omitempty"` // linked clone: its base volume's volid
}

func volumeKey(node, volid string) string { return node + "\x00" + volid }

var volumeIDRE = regexp.MustCompile(`^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$`)

// parseVolumeID splits "storage:volname" like PVE::Storage::parse_volume_id.
func parseVolumeID(volid string) (storage, volname string, err error) {
	m := volumeIDRE.FindStringSubmatch(volid)
	if m == nil {
		return "", "", fmt.Errorf("unable to parse volume ID '%s'", volid)
	}
	return m[1], m[2], nil
}

// templateFormats maps container template extensions to PVE's format names.
var templateFormats = []struct{ ext, format string }{
	{".tar.gz", "tgz"}, {".tar.xz", "txz"}, {".tar.zst", "tzst"}, {".tar.bz2", "tbz2"}, {".tar", "tar"},
}

// templateFormat is the format of a vztmpl file name, "" when it is not one
// (extensions compare case-insensitively, as in PVE).
func templateFormat(file string) string {
	file = strings.ToLower(file)
	for _, t := range templateFormats {
		if strings.HasSuffix(file, t.ext) && len(file) > len(t.ext) {
			return t.format
		}
	}
	return ""
}

// vztmplVolnameRE matches a vztmpl volume name, "vztmpl/<file>", and
// captures the file.
var vztmplVolnameRE = regexp.MustCompile(`^vztmpl/([^/]+)$`)

// volumeLocked looks a volume up; the caller holds s.mu.
func (s *Server) volumeLocked(node, volid string) (*volume, bool) {
	v, ok := s.volumes[volumeKey(node, volid)]
	return v, ok
}

// allocDisk creates a container volume: "<storage>:vm-<vmid>-disk-<n>" on
// LVM-thin, "<storage>:<vmid>/vm-<vmid>-disk-<n>.raw" on a directory, with
// the lowest free n.
func (s *Server) allocDisk(node, storage string, vmid int, size int64) (*volume, error) {
	sc, ok := s.storage(storage)
	if !ok {
		return nil, fmt.Errorf("storage '%s' does not exist", storage)
	}
	v, err := s.addDiskLocked(node, sc, vmid, size)
	if err != nil {
		return nil, err
	}
	// A volume exists from here on, even if the task that made it dies:
	// PVE's storage keeps it, so the state file does too.
	s.persist()
	return v, nil
}

// addDiskLocked registers the volume of allocDisk under s.mu.
func (s *Server) addDiskLocked(node string, sc StorageConfig, vmid int, size int64) (*volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := s.freeDiskNameLocked(node, sc.ID, vmid)
	volid := sc.ID + ":" + name
	if sc.Type == "dir" {
		volid = fmt.Sprintf("%s:%d/%s.raw", sc.ID, vmid, name)
	}
	if s.storageUsedLocked(node, sc)+size > sc.Total {
		return nil, fmt.Errorf("not enough free space on storage '%s' to allocate %s", sc.ID, pveformat.FormatDiskSize(size))
	}
	v := &volume{Node: node, Storage: sc.ID, VolID: volid, Content: "rootdir", Format: "raw", Size: size, VMID: vmid, CTime: s.now().Unix()}
	s.volumes[volumeKey(node, volid)] = v
	return v, nil
}

// freeDiskName is the name the next volume of vmid on storage gets:
// "vm-<vmid>-disk-<n>" with the lowest n not taken (nor as "base-…").
func (s *Server) freeDiskName(node, storage string, vmid int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.freeDiskNameLocked(node, storage, vmid)
}

func (s *Server) freeDiskNameLocked(node, storage string, vmid int) string {
	for n := 0; ; n++ {
		name := fmt.Sprintf("vm-%d-disk-%d", vmid, n)
		base := fmt.Sprintf("base-%d-disk-%d", vmid, n)
		if !s.diskNameUsedLocked(node, storage, name) && !s.diskNameUsedLocked(node, storage, base) {
			return name
		}
	}
}

func (s *Server) diskNameUsedLocked(node, storage, name string) bool {
	for _, v := range s.volumes {
		if v.Node != node || v.Storage != storage {
			continue
		}
		_, volname, _ := parseVolumeID(v.VolID)
		base := filepath.Base(volname)
		if strings.TrimSuffix(base, ".raw") == name {
			return true
		}
	}
	return false
}

func (s *Server) storageUsedLocked(node string, sc StorageConfig) int64 {
	var used int64
	for _, v := range s.volumes {
		if v.Node == node && v.Storage == sc.ID {
			used += v.Size
		}
	}
	return used
}

// freeVolume removes a volume; a base volume with linked clones refuses,
// as LVM-thin would otherwise lose their data.
func (s *Server) freeVolume(node, volid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.volumes[volumeKey(node, volid)]
	if !ok {
		return nil
	}
	for _, other := range s.volumes {
		if other.Node == node && other.Parent == volid {
			_, volname, _ := parseVolumeID(volid)
			return fmt.Errorf("base volume '%s' is still in use by linked clones", volname)
		}
	}
	delete(s.volumes, volumeKey(node, volid))
	if v.File != "" {
		_ = os.Remove(filepath.Join(s.nodeFS(node), v.File))
	}
	return nil
}

// storageStatus is one entry of GET /nodes/{node}/storage.
func (s *Server) storageStatus(node string, sc StorageConfig) map[string]any {
	s.mu.Lock()
	used := s.storageUsedLocked(node, sc)
	s.mu.Unlock()
	if sc.Type == "dir" {
		used += 5 * pveformat.GiB // the node's own files share the root filesystem
	}
	frac := float64(used) / float64(sc.Total)
	return map[string]any{
		"storage": sc.ID, "type": sc.Type, "content": strings.Join(sc.Content, ","),
		"active": 1, "enabled": 1, "shared": 0,
		"total": sc.Total, "used": used, "avail": sc.Total - used,
		"used_fraction": math.Round(frac*1e6) / 1e6,
	}
}

// handleNodeStorage is GET /nodes/{node}/storage.
func (s *Server) handleNodeStorage(q *request) (any, error) {
	out := []map[string]any{}
	for _, sc := range s.storages {
		if id := q.str("storage"); id != "" && id != sc.ID {
			continue
		}
		if want := q.str("content"); want != "" {
			match := false
			for _, c := range pveformat.SplitTags(want) {
				match = match || sc.has(c)
			}
			if !match {
				continue
			}
		}
		out = append(out, s.storageStatus(q.node(), sc))
	}
	return out, nil
}

// handleStorageStatus is GET /nodes/{node}/storage/{storage}/status.
func (s *Server) handleStorageStatus(q *request) (any, error) {
	sc, err := s.storageOrErr(q.str("storage"))
	if err != nil {
		return nil, err
	}
	st := s.storageStatus(q.node(), sc)
	delete(st, "storage")
	delete(st, "used_fraction")
	return st, nil
}

// handleStorageIndex is GET /nodes/{node}/storage/{storage}.
func (s *Server) handleStorageIndex(q *request) (any, error) {
	if _, err := s.storageOrErr(q.str("storage")); err != nil {
		return nil, err
	}
	out := []map[string]string{}
	for _, sub := range []string{"content", "download-url", "file-restore", "import-metadata", "prunebackups", "rrd", "rrddata", "status", "upload"} {
		out = append(out, map[string]string{"subdir": sub})
	}
	return out, nil
}

// handleStorageConfigList is GET /storage, the cluster's storage.cfg.
func (s *Server) handleStorageConfigList(q *request) (any, error) {
	out := []map[string]any{}
	for _, sc := range s.storages {
		if t := q.str("type"); t != "" && t != sc.Type {
			continue
		}
		e := map[string]any{"storage": sc.ID, "type": sc.Type, "content": strings.Join(sc.Content, ","), "digest": configDigest(sc.ID + sc.Type)}
		switch sc.Type {
		case "dir":
			e["path"] = sc.Path
		case "lvmthin":
			e["thinpool"] = "data"
			e["vgname"] = "pve"
		}
		out = append(out, e)
	}
	return out, nil
}

// volumeJSON is a volume's entry in a content listing.
func (v *volume) volumeJSON() map[string]any {
	e := map[string]any{"volid": v.VolID, "content": v.Content, "format": v.Format, "size": v.Size, "ctime": v.CTime}
	if v.VMID != 0 {
		e["vmid"] = v.VMID
		e["used"] = v.Size / 10
	}
	if v.Parent != "" {
		e["parent"] = v.Parent
	}
	return e
}

// handleStorageContent is GET /nodes/{node}/storage/{storage}/content.
func (s *Server) handleStorageContent(q *request) (any, error) {
	sc, err := s.storageOrErr(q.str("storage"))
	if err != nil {
		return nil, err
	}
	node := q.node()
	s.mu.Lock()
	var vols []*volume
	for _, v := range s.volumes {
		if v.Node != node || v.Storage != sc.ID {
			continue
		}
		if c := q.str("content"); c != "" && v.Content != c {
			continue
		}
		if q.has("vmid") && strconv.Itoa(v.VMID) != q.str("vmid") {
			continue
		}
		c := *v
		vols = append(vols, &c)
	}
	s.mu.Unlock()
	slices.SortFunc(vols, func(a, b *volume) int { return strings.Compare(a.VolID, b.VolID) })
	out := []map[string]any{}
	for _, v := range vols {
		out = append(out, v.volumeJSON())
	}
	return out, nil
}

// realVolumeID accepts a full volid or, with the storage given, a volume name.
func realVolumeID(storage, volume string) (string, *apiError) {
	if strings.Contains(volume, ":") {
		sid, _, err := parseVolumeID(volume)
		if err != nil {
			return "", paramErr1("volume", err.Error()+"\n")
		}
		if storage != "" && sid != storage {
			return "", paramErr1("volume", fmt.Sprintf("storage ID mismatch (%s != %s)\n", sid, storage))
		}
		return volume, nil
	}
	if storage == "" {
		return "", paramErr1("volume", "no storage specified - incomplete volume ID")
	}
	return storage + ":" + volume, nil
}

// handleVolumeDelete is DELETE /nodes/{node}/storage/{storage}/content/{volume}:
// an "imgdel" task frees the volume. With delay, the call waits up to that
// many seconds and returns null when the task finished in time.
func (s *Server) handleVolumeDelete(q *request) (any, error) {
	volid, aerr := realVolumeID(q.str("storage"), q.str("volume"))
	if aerr != nil {
		return nil, aerr
	}
	sid, _, _ := parseVolumeID(volid)
	if _, err := s.storageOrErr(sid); err != nil {
		return nil, err
	}
	node := q.node()
	s.mu.Lock()
	v, ok := s.volumeLocked(node, volid)
	owner := 0
	if ok {
		owner = v.VMID
	}
	s.mu.Unlock()
	if !ok {
		return nil, errf("volume '%s' does not exist", volid)
	}
	id := sid
	if owner != 0 {
		id = fmt.Sprintf("%d@%s", owner, sid)
	}
	t := s.startTask(node, "imgdel", id, q.who, owner, q.lockFail, func(ctx context.Context, t *task) error {
		if err := s.taskWork(ctx, t, s.cfg.taskDuration("imgdel")); err != nil {
			return err
		}
		if err := s.freeVolume(node, volid); err != nil {
			return err
		}
		s.persist()
		t.log("Removed volume '%s'", volid)
		return nil
	})
	if q.has("delay") {
		select {
		case <-t.done:
			rec := t.record()
			if rec.ExitStatus == "OK" || strings.HasPrefix(rec.ExitStatus, "WARNINGS") {
				return nil, nil
			}
			return nil, errf("%s", rec.ExitStatus)
		case <-time.After(time.Duration(q.intOr("delay", 1)) * time.Second):
		}
	}
	return t.upid, nil
}

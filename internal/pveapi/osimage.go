package pveapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// OSImage is a container OS image (a vztmpl volume) on a node.
type OSImage struct {
	// VolID is the volume, e.g. "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".
	VolID string
	// Storage holds the volume.
	Storage string
	// Downloaded is true when EnsureOSImage had to fetch it.
	Downloaded bool
	// Task is the download task, when there was one (for an image from a
	// URL with a checksum also the task that verified a file already there).
	Task *TaskResult

	// size and ctime tell one version of the file from another.
	size, ctime int64
}

// ErrOSImageNotFound reports an image that is neither on the node nor in the
// node's appliance index.
var ErrOSImageNotFound = errors.New("OS image not found")

// FindOSImage looks for ref — an appliance name ("debian-12-standard"), an
// appliance file name, or a volid — in the vztmpl storages of node. For an
// appliance name the newest matching version wins. It reports
// ErrOSImageNotFound when no storage holds it.
//
// The storage and image lists come from the client's lookup cache (see
// lookupCache); before reporting an image missing from cached lists it
// lists again, so an image downloaded meanwhile is found.
func (c *Client) FindOSImage(ctx context.Context, node, ref string) (*OSImage, error) {
	img, cached, err := c.findOSImage(ctx, node, ref)
	if cached && errors.Is(err, ErrOSImageNotFound) {
		c.lookups.invalidate(node, "")
		img, _, err = c.findOSImage(ctx, node, ref)
	}
	return img, err
}

// findOSImage is FindOSImage on the cached lists; cached tells whether any
// list it used was fetched before the call.
func (c *Client) findOSImage(ctx context.Context, node, ref string) (img *OSImage, cached bool, err error) {
	if storage, file, ok := splitVolID(ref); ok {
		vols, cached, err := c.osImageVolumes(ctx, node, storage)
		if err != nil {
			return nil, cached, err
		}
		for _, v := range vols {
			if v.VolID == ref || volumeFile(v.VolID) == file {
				return &OSImage{VolID: v.VolID, Storage: storage, size: v.Size, ctime: v.CTime}, cached, nil
			}
		}
		return nil, cached, fmt.Errorf("%w: %s is not on storage %s of node %s", ErrOSImageNotFound, ref, storage, node)
	}
	storages, cached, err := c.nodeStorages(ctx, node)
	if err != nil {
		return nil, cached, err
	}
	var best *OSImage
	var bestFile string
	for _, s := range storages {
		if (!s.Enabled && !s.Active) || !s.Holds("vztmpl") {
			continue
		}
		vols, volsCached, err := c.osImageVolumes(ctx, node, s.Storage)
		cached = cached || volsCached
		if err != nil {
			return nil, cached, err
		}
		for _, v := range vols {
			file := volumeFile(v.VolID)
			if !pveformat.ApplianceMatches(ref, file) {
				continue
			}
			if best == nil || pveformat.CompareApplianceVersions(file, bestFile) > 0 {
				best, bestFile = &OSImage{VolID: v.VolID, Storage: s.Storage, size: v.Size, ctime: v.CTime}, file
			}
		}
	}
	if best == nil {
		return nil, cached, fmt.Errorf("%w: no vztmpl storage of node %s holds %s", ErrOSImageNotFound, node, ref)
	}
	return best, cached, nil
}

// NodeStorages lists a node's storages, as ListStorage(node, "") does,
// through the lookup cache: the plans of many containers on one node share
// one request. Callers must not modify the returned slice.
func (c *Client) NodeStorages(ctx context.Context, node string) ([]Storage, error) {
	storages, _, err := c.nodeStorages(ctx, node)
	return storages, err
}

// nodeStorages is ListStorage(node, "") through the lookup cache.
func (c *Client) nodeStorages(ctx context.Context, node string) ([]Storage, bool, error) {
	return cachedLookup(ctx, c.lookups, lookupKey{kind: "storages", node: node}, func(ctx context.Context) ([]Storage, error) {
		return c.ListStorage(ctx, node, "")
	})
}

// osImageVolumes is StorageContent(node, storage, "vztmpl") through the
// lookup cache.
func (c *Client) osImageVolumes(ctx context.Context, node, storage string) ([]StorageVolume, bool, error) {
	return cachedLookup(ctx, c.lookups, lookupKey{kind: "vztmpl", node: node, storage: storage}, func(ctx context.Context) ([]StorageVolume, error) {
		return c.StorageContent(ctx, node, storage, "vztmpl")
	})
}

// EnsureOSImage returns the image ref names on node, downloading it when no
// storage holds it yet: an appliance through the node's appliance index
// (POST /nodes/{node}/aplinfo), an http(s) URL with download-url (see
// EnsureOSImageWithChecksum). storage is where a download goes; empty
// means the storage a volid names, else the node's first storage that
// takes vztmpl content. Calls are serialised per Client, so templates and
// containers applied in parallel that need the same image download it once.
func (c *Client) EnsureOSImage(ctx context.Context, node, ref, storage string) (*OSImage, error) {
	return c.EnsureOSImageWithChecksum(ctx, node, ref, storage, ImageChecksum{})
}

// EnsureOSImageWithChecksum is EnsureOSImage that also accepts an image
// from a URL with the checksum it must have: the node downloads it under
// the URL's file name unless a storage holds that file already; with a
// checksum, Proxmox VE verifies the download, or the file already there
// (once per file version and Client), and a mismatch is
// ErrImageChecksumMismatch. A checksum for anything but a URL is an error.
func (c *Client) EnsureOSImageWithChecksum(ctx context.Context, node, ref, storage string, checksum ImageChecksum) (*OSImage, error) {
	if err := c.imageLock.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.imageLock.release()
	if IsImageURL(ref) {
		return c.ensureURLImage(ctx, node, ref, storage, checksum)
	}
	if !checksum.IsZero() {
		return nil, fmt.Errorf("a checksum applies only to an OS image downloaded from a URL, not to %s", ref)
	}
	img, err := c.FindOSImage(ctx, node, ref)
	if err == nil {
		return img, nil
	}
	if !errors.Is(err, ErrOSImageNotFound) {
		return nil, err
	}
	appliance, err := c.findAppliance(ctx, node, ref)
	if err != nil {
		return nil, err
	}
	if volStorage, _, ok := splitVolID(ref); ok && storage == "" {
		storage = volStorage
	}
	if storage == "" {
		if storage, err = c.firstStorageFor(ctx, node, "vztmpl"); err != nil {
			return nil, err
		}
	}
	subsystemDebug(ctx, "downloading OS image", map[string]any{"node": node, "storage": storage, "template": appliance.Template})
	res, err := c.DownloadAppliance(ctx, node, storage, appliance.Template)
	if err != nil {
		return nil, fmt.Errorf("downloading %s to storage %s: %w", appliance.Template, storage, err)
	}
	return &OSImage{VolID: storage + ":vztmpl/" + appliance.Template, Storage: storage, Downloaded: true, Task: res}, nil
}

// findAppliance picks the appliance-index entry for ref, newest version
// first.
func (c *Client) findAppliance(ctx context.Context, node, ref string) (*Appliance, error) {
	apps, err := c.Appliances(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("reading the appliance index of node %s: %w", node, err)
	}
	want := ref
	if _, file, ok := splitVolID(ref); ok {
		want = file
	}
	var best *Appliance
	for i := range apps {
		a := &apps[i]
		if a.Type != "" && a.Type != "lxc" {
			continue
		}
		if !pveformat.ApplianceMatches(want, a.Template) {
			continue
		}
		if best == nil || pveformat.CompareApplianceVersions(a.Template, best.Template) > 0 {
			best = a
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: %s is on no storage of node %s and not in its appliance index (pveam available)", ErrOSImageNotFound, ref, node)
	}
	return best, nil
}

// DefaultContainerStorage is the storage a container's root filesystem goes
// to when nothing says: the node's first enabled storage that takes
// container volumes (rootdir content).
func (c *Client) DefaultContainerStorage(ctx context.Context, node string) (string, error) {
	return c.firstStorageFor(ctx, node, "rootdir")
}

func (c *Client) firstStorageFor(ctx context.Context, node, content string) (string, error) {
	storages, _, err := c.nodeStorages(ctx, node)
	if err != nil {
		return "", err
	}
	for _, s := range storages {
		if (s.Enabled || s.Active) && s.Holds(content) {
			return s.Storage, nil
		}
	}
	return "", fmt.Errorf("node %s has no enabled storage for %s content; set the storage explicitly", node, content)
}

// TaskSummary is one entry of GET /nodes/{node}/tasks.
type TaskSummary struct {
	UPID      string `json:"upid"`
	Type      string `json:"type"`
	ID        string `json:"id"`
	User      string `json:"user"`
	Status    string `json:"status"`
	StartTime int64  `json:"starttime"`
	EndTime   int64  `json:"endtime"`
}

// ListTasks lists the newest 50 tasks of a node for one guest and task type
// (all of them when typ is ""), running ones included, newest first.
func (c *Client) ListTasks(ctx context.Context, node string, vmid int, typ string) ([]TaskSummary, error) {
	p := NewParams().SetInt("vmid", int64(vmid)).SetInt("limit", 50).Set("source", "all")
	if typ != "" {
		p.Set("typefilter", typ)
	}
	var out []TaskSummary
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "tasks"), p, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// extractingRE matches the create task's log line naming the image.
var extractingRE = regexp.MustCompile(`extracting archive '([^']+)'`)

// ContainerOSImage tells which OS image a container was created from, read
// from the log of its create task (the config does not record it). It
// returns "" when the task is no longer in the node's task history.
func (c *Client) ContainerOSImage(ctx context.Context, node string, vmid int) (string, error) {
	tasks, err := c.ListTasks(ctx, node, vmid, "vzcreate")
	if err != nil {
		return "", err
	}
	for _, t := range tasks {
		lines, _, err := c.TaskLog(ctx, t.UPID, 0, 50)
		if err != nil {
			continue
		}
		for _, l := range lines {
			if m := extractingRE.FindStringSubmatch(l.T); m != nil {
				return path.Base(m[1]), nil
			}
		}
	}
	return "", nil
}

// splitVolID splits "storage:vztmpl/file" into storage and file. A volid
// copied from an API URL ("local:vztmpl%2Ffile") is unescaped before the
// "vztmpl/" prefix is removed.
func splitVolID(ref string) (storage, file string, ok bool) {
	storage, rest, ok := strings.Cut(ref, ":")
	if !ok || storage == "" {
		return "", "", false
	}
	if unescaped, err := url.PathUnescape(rest); err == nil {
		rest = unescaped
	}
	rest = strings.TrimPrefix(rest, "vztmpl/")
	if rest == "" {
		return "", "", false
	}
	return storage, rest, true
}

// volumeFile is the file name part of a volid.
func volumeFile(volid string) string {
	_, rest, _ := strings.Cut(volid, ":")
	return path.Base(rest)
}

package pvesim_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

func TestStorageListsLikeAStockInstall(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	var list []map[string]any
	c.do(http.MethodGet, "/nodes/pve/storage", nil).ok(t).decode(t, &list)
	if len(list) != 2 || list[0]["storage"] != "local" || list[0]["content"] != "backup,iso,snippets,vztmpl" || list[0]["type"] != "dir" ||
		list[1]["storage"] != "local-lvm" || list[1]["content"] != "images,rootdir" || list[1]["type"] != "lvmthin" {
		t.Fatalf("storages = %v", list)
	}
	for _, s := range list {
		if s["total"].(float64) <= 0 || s["avail"].(float64) <= 0 || s["active"] != float64(1) {
			t.Errorf("storage sizes = %v", s)
		}
	}
	c.do(http.MethodGet, "/nodes/pve/storage", url.Values{"content": {"vztmpl"}}).ok(t).decode(t, &list)
	if len(list) != 1 || list[0]["storage"] != "local" {
		t.Errorf("vztmpl storages = %v", list)
	}
	c.do(http.MethodGet, "/nodes/pve/storage", url.Values{"content": {"rootdir"}}).ok(t).decode(t, &list)
	if len(list) != 1 || list[0]["storage"] != "local-lvm" {
		t.Errorf("rootdir storages = %v", list)
	}
}

func TestAplinfoDownloadCreatesTemplateVolume(t *testing.T) {
	sim := pvesimtest.New(t, pvesimtest.WithTaskDuration(5*time.Millisecond))
	c := tokenClient(t, sim)
	var index []map[string]any
	c.do(http.MethodGet, "/nodes/pve/aplinfo", nil).ok(t).decode(t, &index)
	names := map[string]map[string]any{}
	for _, a := range index {
		names[a["template"].(string)] = a
	}
	for _, want := range []string{debian12, "debian-13-standard_13.1-2_amd64.tar.zst", "ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "alpine-3.22-default_20250617_amd64.tar.xz"} {
		a, ok := names[want]
		if !ok {
			t.Fatalf("aplinfo lacks %s", want)
		}
		for _, k := range []string{"type", "package", "version", "os", "section", "headline", "description", "location", "infopage", "maintainer", "architecture", "sha512sum", "source"} {
			if a[k] == nil || a[k] == "" {
				t.Errorf("%s: field %s missing", want, k)
			}
		}
	}
	c.do(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {"nosuch.tar.zst"}}).
		wantParamErr(t, map[string]string{"template": "no such template"})
	c.do(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local-lvm"}, "template": {debian12}}).
		wantErr(t, 500, "storage 'local-lvm' does not support templates")

	var content []map[string]any
	c.do(http.MethodGet, "/nodes/pve/storage/local/content", url.Values{"content": {"vztmpl"}}).ok(t).decode(t, &content)
	if len(content) != 0 {
		t.Fatalf("fresh storage has templates: %v", content)
	}
	upid := c.mustTask(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}})
	if !strings.Contains(strings.Join(sim.TaskLog(upid), "\n"), "/var/lib/vz/template/cache/"+debian12) {
		t.Errorf("task log: %q", sim.TaskLog(upid))
	}
	c.do(http.MethodGet, "/nodes/pve/storage/local/content", url.Values{"content": {"vztmpl"}}).ok(t).decode(t, &content)
	if len(content) != 1 || content[0]["volid"] != debianVol || content[0]["format"] != "tzst" || content[0]["content"] != "vztmpl" ||
		content[0]["size"].(float64) <= 0 || content[0]["ctime"] == nil {
		t.Fatalf("content = %v", content)
	}
	vols := sim.Volumes("pve", "local")
	st, err := os.Stat(vols[0].Path)
	if err != nil || st.Size() != int64(content[0]["size"].(float64)) {
		t.Errorf("template file %s: %v", vols[0].Path, err)
	}
	// A second download finds the file.
	upid = c.mustTask(http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {debian12}})
	if log := sim.TaskLog(upid); log[0] != "OK, got correct file already, no need to download" {
		t.Errorf("second download log: %q", log)
	}
	// Container volumes are listed with their owner.
	c.createCT("100", nil)
	c.do(http.MethodGet, "/nodes/pve/storage/local-lvm/content", nil).ok(t).decode(t, &content)
	if len(content) != 1 || content[0]["volid"] != "local-lvm:vm-100-disk-0" || content[0]["vmid"] != float64(100) || content[0]["content"] != "rootdir" {
		t.Errorf("local-lvm content = %v", content)
	}
	// Deleting the template volume runs an imgdel task.
	upid = c.mustTask(http.MethodDelete, "/nodes/pve/storage/local/content/"+url.PathEscape(debianVol), nil)
	if !strings.Contains(upid, ":imgdel:local:") {
		t.Errorf("UPID %s", upid)
	}
	if _, err := os.Stat(vols[0].Path); !os.IsNotExist(err) {
		t.Errorf("template file still there: %v", err)
	}
	c.do(http.MethodDelete, "/nodes/pve/storage/local/content/"+url.PathEscape(debianVol), nil).wantErr(t, 500, "volume '"+debianVol+"' does not exist")
}

func TestConfiguredStoragesAreChecked(t *testing.T) {
	for _, tc := range []struct {
		storage pvesim.StorageConfig
		want    string
	}{
		{pvesim.StorageConfig{ID: "z", Type: "dir", Path: "/x", Total: 1}, `storage "z": an id is a letter`},
		{pvesim.StorageConfig{ID: "tank", Type: "zfspool", Total: 1}, `storage "tank": type "zfspool" is not simulated; use dir or lvmthin`},
		{pvesim.StorageConfig{ID: "data", Type: "dir", Path: "relative", Total: 1}, `storage "data": a dir storage needs an absolute path`},
		{pvesim.StorageConfig{ID: "local", Type: "dir", Path: "/var/lib/vz", Total: 1}, `storage "local" is configured twice`},
		{pvesim.StorageConfig{ID: "thin", Type: "lvmthin"}, `storage "thin": the capacity (Total) must be positive`},
	} {
		_, err := pvesim.Start(context.Background(), pvesim.Config{Storages: append(pvesim.DefaultStorages(), tc.storage), DisableSSH: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("storage %+v: error %v, want %q", tc.storage, err, tc.want)
		}
	}
}

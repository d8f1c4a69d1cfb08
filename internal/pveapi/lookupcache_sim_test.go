package pveapi_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// The lookups every create repeats (the node's storages, the OS images on
// them) are made once per node however many creates ask in parallel.
func TestSharedLookups_oncePerNode(t *testing.T) {
	e := newEnv(t, authModes[0], []pvesimtest.Option{withDebian, pvesimtest.WithNodes("pve", "pve2")}, nil)
	const createsPerNode = 6
	var wg sync.WaitGroup
	for _, n := range []string{"pve", "pve2"} {
		for range createsPerNode {
			wg.Go(func() {
				storage, err := e.c.DefaultContainerStorage(e.ctx, n)
				if err != nil || storage != "local-lvm" {
					t.Errorf("DefaultContainerStorage(%s) = %q, %v", n, storage, err)
				}
				img, err := e.c.EnsureOSImage(e.ctx, n, "debian-12-standard", "")
				if err != nil || img.VolID != debianVolID || img.Downloaded {
					t.Errorf("EnsureOSImage(%s) = %+v, %v", n, img, err)
				}
			})
		}
	}
	wg.Wait()
	for _, n := range []string{"pve", "pve2"} {
		if got := len(e.requests(http.MethodGet, "/nodes/"+n+"/storage")); got != 1 {
			t.Errorf("%d creates on %s listed its storages %d times, want 1", createsPerNode, n, got)
		}
		if got := len(e.requests(http.MethodGet, "/nodes/"+n+"/storage/local/content")); got != 1 {
			t.Errorf("%d creates on %s listed the images on local %d times, want 1", createsPerNode, n, got)
		}
	}
}

// A missing image is still downloaded, once, and the creates after the
// download find it; an image downloaded by another client after this one
// listed the storage is found too.
func TestSharedLookups_downloadAndForeignChanges(t *testing.T) {
	e := newEnv(t, authModes[0], nil, nil)
	var wg sync.WaitGroup
	downloaded := make(chan bool, 4)
	for range 4 {
		wg.Go(func() {
			img, err := e.c.EnsureOSImage(e.ctx, node, "debian-12-standard", "")
			if err != nil || img.VolID != debianVolID {
				t.Errorf("EnsureOSImage = %+v, %v", img, err)
				return
			}
			downloaded <- img.Downloaded
		})
	}
	wg.Wait()
	close(downloaded)
	downloads := 0
	for d := range downloaded {
		if d {
			downloads++
		}
	}
	if downloads != 1 || len(e.requests(http.MethodPost, "/nodes/pve/aplinfo")) != 1 {
		t.Errorf("4 parallel creates downloaded the image %d times (%d POSTs), want once", downloads, len(e.requests(http.MethodPost, "/nodes/pve/aplinfo")))
	}
	// One listing found it missing, one after the download found it.
	if got := len(e.requests(http.MethodGet, "/nodes/pve/storage/local/content")); got != 2 {
		t.Errorf("the images on local were listed %d times, want 2 (before and after the download)", got)
	}

	// This client has the listing cached; another one downloads Alpine.
	if _, err := e.c.FindOSImage(e.ctx, node, "alpine-3.22-default"); !errors.Is(err, pveapi.ErrOSImageNotFound) {
		t.Fatalf("FindOSImage(alpine) before its download: %v, want ErrOSImageNotFound", err)
	}
	other := newClient(t, e)
	if img, err := other.EnsureOSImage(e.ctx, node, "alpine-3.22-default", ""); err != nil || !img.Downloaded {
		t.Fatalf("the other client's EnsureOSImage = %+v, %v", img, err)
	}
	if img, err := e.c.FindOSImage(e.ctx, node, "alpine-3.22-default"); err != nil || img.VolID != "local:vztmpl/"+alpineFile {
		t.Errorf("FindOSImage(alpine) after another client downloaded it = %+v, %v", img, err)
	}

	// This client deletes an image: its next lookup does not find it.
	if _, err := e.c.DeleteVolume(e.ctx, node, "local", debianVolID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.FindOSImage(e.ctx, node, debianVolID); !errors.Is(err, pveapi.ErrOSImageNotFound) {
		t.Errorf("FindOSImage after this client deleted the image: %v, want ErrOSImageNotFound", err)
	}
	// Another client deletes one: a new client (the next terraform command)
	// does not find it.
	if _, err := other.DeleteVolume(e.ctx, node, "local", "local:vztmpl/"+alpineFile); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, e).FindOSImage(e.ctx, node, "alpine-3.22-default"); !errors.Is(err, pveapi.ErrOSImageNotFound) {
		t.Errorf("a new client's FindOSImage after the image was deleted: %v, want ErrOSImageNotFound", err)
	}
}

// newClient is a second client of e's simulator, like another terraform
// command.
func newClient(t *testing.T, e *env) *pveapi.Client {
	t.Helper()
	c, err := pveapi.New(e.mode.config(e.sim))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

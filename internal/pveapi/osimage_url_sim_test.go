package pveapi_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// imageHost serves OS images over loopback HTTP and counts the GETs per
// path, so a test sees how often a node downloaded an image.
type imageHost struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	gets  map[string]int
	heads atomic.Int64
}

func newImageHost(t *testing.T, files map[string][]byte) *imageHost {
	t.Helper()
	h := &imageHost{files: files, gets: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			h.heads.Add(1)
		}
		h.mu.Lock()
		if r.Method == http.MethodGet {
			h.gets[r.URL.Path]++
		}
		data, ok := h.files[r.URL.Path]
		h.mu.Unlock()
		if r.URL.Path == "/latest" { // names its file only in a header
			w.Header().Set("Content-Disposition", `attachment; filename="custom-os_2.0_amd64.tar.gz"`)
			data, ok = h.files["/latest"], true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *imageHost) getCount(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gets[path]
}

func checksumOf(alg string, data []byte) pveapi.ImageChecksum {
	if alg == "sha512" {
		sum := sha512.Sum512(data)
		return pveapi.ImageChecksum{Algorithm: alg, Digest: hex.EncodeToString(sum[:])}
	}
	sum := sha256.Sum256(data)
	return pveapi.ImageChecksum{Algorithm: "sha256", Digest: hex.EncodeToString(sum[:])}
}

const customFile = "custom-os_1.0_amd64.tar.zst"

func TestEnsureOSImageFromURL(t *testing.T) {
	image := []byte("a root filesystem, as far as this test is concerned")
	host := newImageHost(t, map[string][]byte{"/images/" + customFile: image})
	e := newEnv(t, authModes[0], []pvesimtest.Option{pvesimtest.WithNodes("pve", "pve2")}, nil)
	imageURL := host.URL + "/images/" + customFile + "?token=secret-download-token"
	sum := checksumOf("sha256", image)

	img, err := e.c.EnsureOSImageWithChecksum(e.ctx, node, imageURL, "", sum)
	mustOK(t, "first EnsureOSImageWithChecksum", err)
	if !img.Downloaded || img.VolID != "local:vztmpl/"+customFile || img.Storage != "local" || img.Task == nil ||
		img.Task.UPID.Type != "download" || img.Task.UPID.ID != customFile || img.Task.ExitStatus != "OK" {
		t.Fatalf("first EnsureOSImageWithChecksum = %+v", img)
	}
	posts := e.requests(http.MethodPost, "/nodes/pve/storage/local/download-url")
	if len(posts) != 1 || posts[0].Params["url"] != imageURL || posts[0].Params["content"] != "vztmpl" ||
		posts[0].Params["filename"] != customFile || posts[0].Params["checksum"] != sum.Digest || posts[0].Params["checksum-algorithm"] != "sha256" {
		t.Fatalf("download-url requests %+v", posts)
	}
	if len(e.requests(http.MethodGet, "/nodes/pve/query-url-metadata")) != 0 {
		t.Error("a URL naming its file needs no query-url-metadata")
	}

	// The same client again: the file is there and already verified.
	again, err := e.c.EnsureOSImageWithChecksum(e.ctx, node, imageURL, "", sum)
	mustOK(t, "second EnsureOSImageWithChecksum", err)
	if again.Downloaded || again.Task != nil || again.VolID != img.VolID {
		t.Errorf("second EnsureOSImageWithChecksum = %+v", again)
	}
	// Without a checksum the file is simply used.
	plain, err := e.c.EnsureOSImage(e.ctx, node, imageURL, "")
	mustOK(t, "EnsureOSImage(url)", err)
	if plain.Downloaded || plain.VolID != img.VolID {
		t.Errorf("EnsureOSImage(url) = %+v", plain)
	}
	// Another client (the next terraform command) has Proxmox VE check the
	// file it finds, which costs a task but no download.
	other := newClient(t, e)
	checked, err := other.EnsureOSImageWithChecksum(e.ctx, node, imageURL, "", sum)
	mustOK(t, "EnsureOSImageWithChecksum by another client", err)
	if checked.Downloaded || checked.Task == nil || checked.VolID != img.VolID {
		t.Errorf("another client's EnsureOSImageWithChecksum = %+v", checked)
	}
	if n := len(e.requests(http.MethodPost, "/nodes/pve/storage/local/download-url")); n != 2 {
		t.Errorf("%d download-url requests on pve, want 2 (the download and the other client's check)", n)
	}
	if n := host.getCount("/images/" + customFile); n != 1 {
		t.Errorf("the image host served the image %d times to pve, want 1", n)
	}

	// Every node downloads it once: parallel callers on pve2 share one download.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			img, err := e.c.EnsureOSImageWithChecksum(e.ctx, "pve2", imageURL, "", sum)
			if err != nil || img.VolID != "local:vztmpl/"+customFile {
				t.Errorf("EnsureOSImageWithChecksum(pve2) = %+v, %v", img, err)
			}
		})
	}
	wg.Wait()
	if n := host.getCount("/images/" + customFile); n != 2 {
		t.Errorf("the image host served the image %d times, want once per node (2)", n)
	}

	// Removed from the node, it is downloaded again.
	_, err = e.c.DeleteVolume(e.ctx, node, "local", img.VolID)
	mustOK(t, "DeleteVolume", err)
	again, err = e.c.EnsureOSImageWithChecksum(e.ctx, node, imageURL, "", sum)
	mustOK(t, "EnsureOSImageWithChecksum after the delete", err)
	if !again.Downloaded || host.getCount("/images/"+customFile) != 3 {
		t.Errorf("after the delete: %+v, %d GETs", again, host.getCount("/images/"+customFile))
	}
}

func TestEnsureOSImageFromURL_checksumMismatch(t *testing.T) {
	image := []byte("the image the server really has")
	host := newImageHost(t, map[string][]byte{"/" + customFile: image, "/v2/" + customFile: []byte("a newer image")})
	e := newEnv(t, authModes[1], nil, nil)
	wrong := checksumOf("sha512", []byte("what the user expected"))

	_, err := e.c.EnsureOSImageWithChecksum(e.ctx, node, host.URL+"/"+customFile+"?sig=abc", "", wrong)
	if !errors.Is(err, pveapi.ErrImageChecksumMismatch) {
		t.Fatalf("wrong checksum: %v, want ErrImageChecksumMismatch", err)
	}
	for _, want := range []string{"checksum mismatch", checksumOf("sha512", image).Digest, wrong.Digest, "nothing was stored", "/" + customFile + "?…"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "sig=abc") {
		t.Errorf("error %q shows the URL's query string", err)
	}
	if vols := e.sim.Volumes(node, "local"); len(vols) != 0 {
		t.Errorf("a mismatching download left volumes %+v", vols)
	}

	// The right file is there; a changed image under the same name is refused.
	_, err = e.c.EnsureOSImageWithChecksum(e.ctx, node, host.URL+"/"+customFile, "", checksumOf("sha256", image))
	mustOK(t, "download with the right checksum", err)
	_, err = e.c.EnsureOSImageWithChecksum(e.ctx, node, host.URL+"/v2/"+customFile, "", checksumOf("sha256", []byte("a newer image")))
	if !errors.Is(err, pveapi.ErrImageChecksumMismatch) || !strings.Contains(err.Error(), "already holds "+customFile) ||
		!strings.Contains(err.Error(), "pveam remove local:vztmpl/"+customFile) {
		t.Errorf("a different image under an existing name: %v", err)
	}
	if n := host.getCount("/v2/" + customFile); n != 0 {
		t.Errorf("the refused image was fetched %d times", n)
	}
}

func TestEnsureOSImageFromURL_fileNamesAndErrors(t *testing.T) {
	host := newImageHost(t, map[string][]byte{"/latest": []byte("tarball"), "/page": []byte("<html>")})
	e := newEnv(t, authModes[0], nil, nil)

	// A URL without a file name: the node's HEAD request finds it.
	img, err := e.c.EnsureOSImage(e.ctx, node, host.URL+"/latest", "local")
	mustOK(t, "EnsureOSImage(url without file name)", err)
	if img.VolID != "local:vztmpl/custom-os_2.0_amd64.tar.gz" || !img.Downloaded {
		t.Errorf("EnsureOSImage(url without file name) = %+v", img)
	}
	meta, err := e.c.QueryURLMetadata(e.ctx, node, host.URL+"/latest")
	mustOK(t, "QueryURLMetadata", err)
	if meta.FileName != "custom-os_2.0_amd64.tar.gz" || meta.Size != int64(len("tarball")) {
		t.Errorf("QueryURLMetadata = %+v", meta)
	}

	_, err = e.c.EnsureOSImage(e.ctx, node, host.URL+"/page", "")
	if err == nil || !strings.Contains(err.Error(), "does not name a container template file") || !strings.Contains(err.Error(), `"page"`) {
		t.Errorf("a URL naming no template file: %v", err)
	}
	_, err = e.c.EnsureOSImage(e.ctx, node, host.URL+"/gone", "")
	if err == nil || !strings.Contains(err.Error(), "invalid server response: '404 Not Found'") {
		t.Errorf("a URL that answers 404 to HEAD: %v", err)
	}
	if n := host.heads.Load(); n != 4 {
		t.Errorf("%d HEAD requests, want 4: a server's 404 is not retried", n)
	}
	_, err = e.c.EnsureOSImage(e.ctx, node, host.URL+"/gone.tar.xz", "")
	var taskErr *pveapi.TaskError
	if !errors.As(err, &taskErr) || !strings.Contains(err.Error(), "ERROR 404: Not Found.") || strings.Contains(err.Error(), "task log") {
		t.Errorf("a template URL that answers 404: %v", err)
	}
	_, err = e.c.EnsureOSImageWithChecksum(e.ctx, node, "debian-12-standard", "", checksumOf("sha256", nil))
	if err == nil || !strings.Contains(err.Error(), "only to an OS image downloaded from a URL") {
		t.Errorf("a checksum for an appliance: %v", err)
	}
	_, err = e.c.DownloadURL(e.ctx, node, "local-lvm", pveapi.DownloadURLRequest{URL: host.URL + "/latest", Content: "vztmpl", FileName: "x.tar.gz"})
	wantAPIError(t, err, http.StatusInternalServerError, "can't upload to storage type 'lvmthin', not a file based storage!")
	_, err = e.c.DownloadURL(e.ctx, node, "local", pveapi.DownloadURLRequest{URL: host.URL + "/latest", Content: "vztmpl", FileName: "x.zip"})
	if errs := wantAPIError(t, err, http.StatusBadRequest, "Parameter verification failed."); errs["filename"] != "wrong file extension" {
		t.Errorf("errors %v", errs)
	}
}

package pvesim_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// imageServer serves files over loopback HTTP(S) and counts the requests
// per method, the way a team's artifact server would serve OS images.
type imageServer struct {
	*httptest.Server
	files map[string][]byte // path -> content
	gets  atomic.Int64
	heads atomic.Int64
}

func newImageServer(t *testing.T, tls bool, files map[string][]byte) *imageServer {
	t.Helper()
	s := &imageServer{files: files}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			s.gets.Add(1)
		case http.MethodHead:
			s.heads.Add(1)
		}
		if r.URL.Path == "/download" { // a download endpoint naming its file in a header
			w.Header().Set("Content-Disposition", `attachment; filename="from-header_1.0_amd64.tar.gz"`)
			w.Header().Set("Content-Type", "application/gzip; charset=binary")
			_, _ = w.Write(files["/download"])
			return
		}
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
	})
	if tls {
		s.Server = httptest.NewUnstartedServer(h)
		s.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // refused handshakes are expected
		s.StartTLS()
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func sha512Hex(data []byte) string {
	sum := sha512.Sum512(data)
	return hex.EncodeToString(sum[:])
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// download calls download-url on pve's local storage and returns the
// task's UPID, exitstatus and log.
func (c *apiClient) download(params url.Values) (upid, exit string, log []string) {
	c.t.Helper()
	upid = c.do(http.MethodPost, downloadPath, params).ok(c.t).str(c.t)
	st := c.waitTask(strings.Split(upid, ":")[1], upid)
	return upid, fmt.Sprint(st["exitstatus"]), c.sim.TaskLog(upid)
}

func downloadParams(rawURL, file string, extra ...string) url.Values {
	p := url.Values{"url": {rawURL}, "content": {"vztmpl"}, "filename": {file}}
	for i := 0; i+1 < len(extra); i += 2 {
		p.Set(extra[i], extra[i+1])
	}
	return p
}

const downloadPath = "/nodes/pve/storage/local/download-url"

func TestDownloadURLStoresTheFileAsATemplateVolume(t *testing.T) {
	image := []byte("pretend this is a root filesystem tarball")
	srv := newImageServer(t, false, map[string][]byte{"/images/custom_1.0_amd64.tar.zst": image})
	sim := fastSim(t)
	c := tokenClient(t, sim)
	const file = "custom_1.0_amd64.tar.zst"
	imageURL := srv.URL + "/images/" + file

	upid, exit, log := c.download(downloadParams(imageURL, file,
		"checksum", strings.ToUpper(sha256Hex(image)), "checksum-algorithm", "sha256"))
	if exit != "OK" || !strings.Contains(upid, ":download:"+file+":") {
		t.Fatalf("download %s ended %q; log %q", upid, exit, log)
	}
	dest := "/var/lib/vz/template/cache/" + file
	wantLines := []string{
		"downloading " + imageURL + " to " + dest,
		"HTTP request sent, awaiting response... 200 OK",
		"calculating checksum...OK, checksum verified",
		"download of '" + imageURL + "' to '" + dest + "' finished",
		"TASK OK",
	}
	assertLinesInOrder(t, log, wantLines)
	var content []map[string]any
	c.do(http.MethodGet, "/nodes/pve/storage/local/content", url.Values{"content": {"vztmpl"}}).ok(t).decode(t, &content)
	found := false
	for _, v := range content {
		if v["volid"] == "local:vztmpl/"+file {
			found = true
			if v["format"] != "tzst" || v["size"] != float64(len(image)) || v["content"] != "vztmpl" {
				t.Errorf("volume %v", v)
			}
		}
	}
	if !found {
		t.Fatalf("content %v lacks the downloaded image", content)
	}
	if got := volumeBytes(t, sim, "pve", "local:vztmpl/"+file); string(got) != string(image) {
		t.Errorf("stored file %q, want the served bytes", got)
	}
	if n := srv.gets.Load(); n != 1 {
		t.Errorf("image server got %d GETs, want 1", n)
	}

	// Again with the right checksum: PVE keeps the file, no second fetch.
	_, exit, log = c.download(downloadParams(imageURL, file,
		"checksum", sha512Hex(image), "checksum-algorithm", "sha512"))
	if exit != "OK" || log[1] != "calculating checksum of existing file...OK, got correct file already, no need to download" {
		t.Errorf("second download ended %q; log %q", exit, log)
	}
	// Without a checksum an existing file is never overwritten.
	_, exit, _ = c.download(downloadParams(imageURL, file))
	if exit != "refusing to override existing file '"+dest+"'" {
		t.Errorf("download over an existing file without checksum ended %q", exit)
	}
	// A checksum the existing file does not have aborts.
	wrong := strings.Repeat("0", 64)
	_, exit, _ = c.download(downloadParams(imageURL, file, "checksum", wrong, "checksum-algorithm", "sha256"))
	if want := fmt.Sprintf("checksum mismatch: got '%s' != expect '%s', aborting", sha256Hex(image), wrong); exit != want {
		t.Errorf("mismatching existing file: %q, want %q", exit, want)
	}
	if n := srv.gets.Load(); n != 1 {
		t.Errorf("image server got %d GETs after the repeated downloads, want still 1", n)
	}

	// A container can be created from it.
	c.createCTFrom("200", "local:vztmpl/"+file)
}

func TestDownloadURLChecksumMismatchStoresNothing(t *testing.T) {
	image := []byte("the real image")
	srv := newImageServer(t, false, map[string][]byte{"/x.tar.gz": image})
	sim := fastSim(t)
	c := tokenClient(t, sim)
	wrong := sha256Hex([]byte("another image"))
	_, exit, log := c.download(downloadParams(srv.URL+"/x.tar.gz", "x.tar.gz",
		"checksum", wrong, "checksum-algorithm", "sha256"))
	if want := fmt.Sprintf("checksum mismatch: got '%s' != expect '%s'", sha256Hex(image), wrong); exit != want {
		t.Fatalf("exitstatus %q, want %q", exit, want)
	}
	if log[len(log)-2] != "calculating checksum..." || log[len(log)-1] != "TASK ERROR: "+exit {
		t.Errorf("log %q", log)
	}
	for _, v := range sim.Volumes("pve", "local") {
		if strings.Contains(v.VolID, "x.tar.gz") {
			t.Errorf("volume %s left behind", v.VolID)
		}
	}
	entries, err := os.ReadDir(filepath.Join(sim.NodeFS("pve"), "var/lib/vz/template/cache"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "x.tar.gz") {
			t.Errorf("file %s left in the template cache", e.Name())
		}
	}
}

func TestDownloadURLRefusesLikePVE(t *testing.T) {
	srv := newImageServer(t, false, map[string][]byte{"/ok.tar.gz": []byte("x")})
	sim := fastSim(t, pvesimtest.WithStorages(append(pvesim.DefaultStorages(), ssdStorage)...))
	c := tokenClient(t, sim)
	okURL := srv.URL + "/ok.tar.gz"
	c.do(http.MethodPost, downloadPath, downloadParams("ftp://example.invalid/x.tar.gz", "x.tar.gz")).
		wantParamErr(t, map[string]string{"url": "value does not match the regex pattern"})
	c.do(http.MethodPost, downloadPath, downloadParams(okURL, "ok.tar.gz", "checksum", "abc")).
		wantParamErr(t, map[string]string{"checksum-algorithm": "missing property required by 'checksum'"})
	c.do(http.MethodPost, downloadPath, downloadParams(okURL, "ok.tar.gz", "content", "rootdir")).
		wantParamErr(t, map[string]string{"content": "value 'rootdir' does not have a value in the enumeration 'iso, vztmpl, import'"})
	c.do(http.MethodPost, downloadPath, downloadParams(okURL, "ok.tar.gz", "compression", "rar")).
		wantParamErr(t, map[string]string{"compression": "value 'rar' does not have a value in the enumeration 'gz, lzo, zst, bz2'"})
	c.do(http.MethodPost, "/nodes/pve/storage/nosuch/download-url", downloadParams(okURL, "ok.tar.gz")).
		wantErr(t, 500, "storage 'nosuch' does not exist")
	c.do(http.MethodPost, "/nodes/pve/storage/local-lvm/download-url", downloadParams(okURL, "ok.tar.gz")).
		wantErr(t, 500, "can't upload to storage type 'lvmthin', not a file based storage!")
	c.do(http.MethodPost, "/nodes/pve/storage/ssd/download-url", downloadParams(okURL, "ok.tar.gz")).
		wantErr(t, 500, "storage 'ssd' is not configured for content-type 'vztmpl'")
	c.do(http.MethodPost, downloadPath, downloadParams(okURL, "ok.zip")).
		wantParamErr(t, map[string]string{"filename": "wrong file extension"})
	c.do(http.MethodPost, downloadPath, downloadParams(okURL, "ok.tar.gz", "content", "iso")).
		wantParamErr(t, map[string]string{"filename": "wrong file extension"})

	// Decompression is for ISO images only; it fails in the task.
	_, exit, _ := c.download(downloadParams(okURL, "ok.tar.gz", "compression", "gz"))
	if exit != "decompression not supported for vztmpl" {
		t.Errorf("compressed vztmpl download ended %q", exit)
	}

	// The file name is normalised: directory stripped, odd characters replaced.
	upid, exit, _ := c.download(downloadParams(okURL, "../../etc/my image+v1.tar.gz"))
	if exit != "OK" || !strings.Contains(upid, ":download:my_image_v1.tar.gz:") {
		t.Errorf("normalised download %s ended %q", upid, exit)
	}
	if vols := sim.Volumes("pve", "local"); !hasVolume(vols, "local:vztmpl/my_image_v1.tar.gz") {
		t.Errorf("volumes %v lack the normalised name", vols)
	}
}

func TestDownloadURLUnreachableSources(t *testing.T) {
	srv := newImageServer(t, false, nil)
	tlsSrv := newImageServer(t, true, map[string][]byte{"/secure.tar.xz": []byte("tls image")})
	sim := fastSim(t)
	c := tokenClient(t, sim)
	addr := closedPort(t)
	cases := []struct {
		name, url string
		extra     []string
		want      *regexp.Regexp
	}{
		{"connection refused", "http://" + addr + "/a.tar.gz", nil,
			regexp.MustCompile(`^download failed: Connecting to ` + regexp.QuoteMeta(addr) + `\.\.\. failed: Connection refused\.$`)},
		{"not found", srv.URL + "/missing.tar.gz", nil,
			regexp.MustCompile(`^download failed: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ERROR 404: Not Found\.$`)},
		{"untrusted certificate", tlsSrv.URL + "/secure.tar.xz", nil,
			regexp.MustCompile("^download failed: To connect to 127\\.0\\.0\\.1 insecurely, use `--no-check-certificate'\\.$")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, exit, log := c.download(downloadParams(tc.url, "a.tar.gz", tc.extra...))
			if !tc.want.MatchString(exit) {
				t.Errorf("exitstatus %q, want %v; log %q", exit, tc.want, log)
			}
		})
	}
	// verify-certificates=0 accepts the certificate, as wget --no-check-certificate.
	_, exit, log := c.download(downloadParams(tlsSrv.URL+"/secure.tar.xz", "secure.tar.xz", "verify-certificates", "0"))
	if exit != "OK" {
		t.Errorf("download without verification ended %q; log %q", exit, log)
	}
}

func TestDownloadURLTrustsConfiguredCAs(t *testing.T) {
	tlsSrv := newImageServer(t, true, map[string][]byte{"/secure.tar.xz": []byte("tls image")})
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	sim := fastSim(t, pvesimtest.WithDownloadRootCAs(pool))
	c := tokenClient(t, sim)
	_, exit, log := c.download(downloadParams(tlsSrv.URL+"/secure.tar.xz", "secure.tar.xz",
		"checksum", sha256Hex([]byte("tls image")), "checksum-algorithm", "sha256"))
	if exit != "OK" {
		t.Fatalf("download from a trusted TLS server ended %q; log %q", exit, log)
	}
	var meta map[string]any
	c.do(http.MethodGet, "/nodes/pve/query-url-metadata", url.Values{"url": {tlsSrv.URL + "/secure.tar.xz"}}).ok(t).decode(t, &meta)
	if meta["filename"] != "secure.tar.xz" {
		t.Errorf("metadata over trusted TLS: %v", meta)
	}
}

func TestQueryURLMetadata(t *testing.T) {
	srv := newImageServer(t, false, map[string][]byte{
		"/img/debian-custom_2.0_amd64.tar.zst": []byte("0123456789"),
		"/download":                            []byte("abc"),
	})
	sim := fastSim(t)
	c := tokenClient(t, sim)
	meta := func(u string) map[string]any {
		var m map[string]any
		c.do(http.MethodGet, "/nodes/pve/query-url-metadata", url.Values{"url": {u}}).ok(t).decode(t, &m)
		return m
	}
	if m := meta(srv.URL + "/img/debian-custom_2.0_amd64.tar.zst?token=x"); !jsonEqual(m, `{"filename":"debian-custom_2.0_amd64.tar.zst","size":10,"mimetype":"application/octet-stream"}`) {
		t.Errorf("metadata from the URL: %v", m)
	}
	if m := meta(srv.URL + "/download?id=7"); !jsonEqual(m, `{"filename":"from-header_1.0_amd64.tar.gz","size":3,"mimetype":"application/gzip"}`) {
		t.Errorf("metadata from Content-Disposition: %v", m)
	}
	if n := srv.heads.Load(); n != 2 || srv.gets.Load() != 0 {
		t.Errorf("image server got %d HEADs and %d GETs, want 2 HEADs only", n, srv.gets.Load())
	}
	c.do(http.MethodGet, "/nodes/pve/query-url-metadata", url.Values{"url": {srv.URL + "/nothing.tar.gz"}}).
		wantErr(t, 500, "invalid server response: '404 Not Found'")
	addr := closedPort(t)
	c.do(http.MethodGet, "/nodes/pve/query-url-metadata", url.Values{"url": {"http://" + addr + "/x.tar.gz"}}).
		wantErr(t, 500, "invalid server response: '500 Can't connect to "+addr+" (Connection refused)'")
	c.do(http.MethodGet, "/nodes/pve/query-url-metadata", url.Values{"url": {"file:///etc/passwd"}}).
		wantParamErr(t, map[string]string{"url": "value does not match the regex pattern"})
}

// createCTFrom creates a container from a template volume and waits.
func (c *apiClient) createCTFrom(vmid, volid string) {
	c.t.Helper()
	upid := c.mustTask(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {vmid}, "ostemplate": {volid}, "storage": {"local-lvm"}})
	_, file, _ := strings.Cut(volid, "/")
	assertLinesInOrder(c.t, c.sim.TaskLog(upid), []string{"extracting archive '/var/lib/vz/template/cache/" + file + "'"})
}

// assertLinesInOrder checks that want appear in log, in this order.
func assertLinesInOrder(t testing.TB, log, want []string) {
	t.Helper()
	i := 0
	for _, l := range log {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("log lacks %q (after the earlier lines); log:\n%s", want[i], strings.Join(log, "\n"))
	}
}

// ssdStorage is a directory storage for container volumes only.
var ssdStorage = pvesim.StorageConfig{ID: "ssd", Type: "dir", Content: []string{"images", "rootdir"}, Path: "/mnt/ssd", Total: 1 << 40}

// volumeBytes reads a volume's file on the node.
func volumeBytes(t *testing.T, sim *pvesimtest.Sim, node, volid string) []byte {
	t.Helper()
	storage, _, _ := strings.Cut(volid, ":")
	for _, v := range sim.Volumes(node, storage) {
		if v.VolID == volid {
			data, err := os.ReadFile(v.Path)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
	t.Fatalf("no volume %s on %s", volid, node)
	return nil
}

func hasVolume(vols []pvesim.VolumeInfo, volid string) bool {
	for _, v := range vols {
		if v.VolID == volid {
			return true
		}
	}
	return false
}

package pvesim_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// uploadForm is a multipart upload the way PVE's web UI sends it: the form
// fields, then the file part.
type uploadForm struct {
	fields    [][2]string
	fileField string // "filename" unless set
	fileName  string
	data      []byte
}

func (f uploadForm) encode(t testing.TB) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, kv := range f.fields {
		if err := w.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	field := f.fileField
	if field == "" {
		field = "filename"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, f.fileName))
	h.Set("Content-Type", "application/octet-stream")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(f.data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// upload posts a multipart form to path; query goes into the URL.
func (c *apiClient) upload(path string, query url.Values, form uploadForm) apiResp {
	c.t.Helper()
	body, ct := form.encode(c.t)
	return c.rawPost(path, query, body, ct)
}

// rawPost sends body as is, with the client's credentials but never a
// CSRF token (uploads need none).
func (c *apiClient) rawPost(path string, query url.Values, body []byte, contentType string) apiResp {
	c.t.Helper()
	return c.doRaw(http.MethodPost, path, nil, func(r *http.Request) {
		if len(query) > 0 {
			r.URL.RawQuery = query.Encode()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Del("CSRFPreventionToken")
	})
}

const uploadPath = "/nodes/pve/storage/local/upload"

func TestUploadStoresTheFileAsAVolume(t *testing.T) {
	sim := fastSim(t, pvesimtest.WithNodes("pve", "pve2"))
	c := ticketClient(t, sim) // no CSRF token is sent: uploads need none
	image := bytes.Repeat([]byte("rootfs"), 100000)
	r := c.upload(uploadPath, nil, uploadForm{
		fields:   [][2]string{{"content", "vztmpl"}, {"checksum-algorithm", "sha256"}, {"checksum", sha256Hex(image)}},
		fileName: "C:\\Users\\me\\my image_1.0_amd64.tar.zst", data: image,
	}).ok(t)
	upid := r.str(t)
	st := c.waitTask("pve", upid)
	if st["exitstatus"] != "OK" || st["type"] != "imgcopy" {
		t.Fatalf("upload task %v; log %q", st, sim.TaskLog(upid))
	}
	const file = "my_image_1.0_amd64.tar.zst"
	dest := "/var/lib/vz/template/cache/" + file
	log := sim.TaskLog(upid)
	if !strings.HasPrefix(log[0], "starting file import from: /var/tmp/pveupload-") {
		t.Errorf("log %q", log)
	}
	assertLinesInOrder(t, log, []string{
		"calculating checksum...OK, checksum verified", "target node: pve", "target file: " + dest,
		fmt.Sprintf("file size is: %d", len(image)), "finished file import successfully", "TASK OK",
	})
	if got := volumeBytes(t, sim, "pve", "local:vztmpl/"+file); !bytes.Equal(got, image) {
		t.Errorf("stored %d bytes, want the %d uploaded", len(got), len(image))
	}
	tmps, _ := filepath.Glob(filepath.Join(sim.NodeFS("pve"), "var/tmp/pveupload-*"))
	if len(tmps) != 0 {
		t.Errorf("temporary upload files left: %v", tmps)
	}
	// Uploading again overwrites; another node gets its own copy.
	c.upload("/nodes/pve2/storage/local/upload", nil, uploadForm{
		fields: [][2]string{{"content", "iso"}}, fileName: "tools.iso", data: []byte("iso9660"),
	}).ok(t)
	waitFor(t, "the uploaded volume", func() bool { return hasVolume(sim.Volumes("pve2", "local"), "local:iso/tools.iso") })
	if hasVolume(sim.Volumes("pve", "local"), "local:iso/tools.iso") {
		t.Error("the ISO uploaded to pve2 landed on pve")
	}
	c.createCTFrom("300", "local:vztmpl/"+file)
}

func TestUploadRefusesLikePVE(t *testing.T) {
	sim := fastSim(t, pvesimtest.WithStorages(append(pvesim.DefaultStorages(), ssdStorage)...))
	c := tokenClient(t, sim)
	tpl := func(extra ...[2]string) uploadForm {
		return uploadForm{fields: append([][2]string{{"content", "vztmpl"}}, extra...), fileName: "a.tar.gz", data: []byte("data")}
	}
	c.rawPost(uploadPath, nil, []byte("content=vztmpl&filename=a.tar.gz"), "application/x-www-form-urlencoded").
		wantErr(t, 501, "upload 'Content-Type 'application/x-www-form-urlencoded' not implemented")
	c.upload(uploadPath, url.Values{"tmpfilename": {"/var/tmp/pveupload-00"}}, tpl()).
		wantErr(t, 500, "'tmpfilename' query parameter is not allowed for file uploads")
	c.upload(uploadPath, nil, uploadForm{fields: [][2]string{{"content", "vztmpl"}}, fileField: "file", fileName: "a.tar.gz"}).
		wantErr(t, 500, "wrong field name 'file' for file upload, expected 'filename'")
	c.upload(uploadPath, nil, tpl([2]string{"notes", "x"})).wantErr(t, 500, "upload failed")
	c.upload(uploadPath, url.Values{"pvesim-unknown": {"1"}}, tpl()).
		wantParamErr(t, map[string]string{"pvesim-unknown": "property is not defined in schema and the schema does not allow additional properties"})
	c.upload(uploadPath, nil, tpl([2]string{"checksum", "abc"})).
		wantParamErr(t, map[string]string{"checksum-algorithm": "missing property required by 'checksum'"})
	c.upload("/nodes/pve/storage/local-lvm/upload", nil, tpl()).wantErr(t, 500, "can't upload to storage type 'lvmthin'")
	c.upload("/nodes/pve/storage/ssd/upload", nil, tpl()).wantErr(t, 500, "storage 'ssd' does not support 'vztmpl' content")
	bad := tpl()
	bad.fileName = "a.zip"
	c.upload(uploadPath, nil, bad).wantParamErr(t, map[string]string{"filename": "wrong file extension"})
	// A client cannot name a temporary file of its own.
	c.do(http.MethodPost, uploadPath, url.Values{"content": {"vztmpl"}, "filename": {"a.tar.gz"}, "tmpfilename": {"/var/tmp/pveupload-0123"}}).
		wantErr(t, 501, "upload 'Content-Type 'application/x-www-form-urlencoded' not implemented")

	// A wrong checksum fails the task and stores nothing.
	upid := c.upload(uploadPath, nil, tpl([2]string{"checksum-algorithm", "sha256"}, [2]string{"checksum", strings.Repeat("a", 64)})).ok(t).str(t)
	st := c.waitTask("pve", upid)
	want := fmt.Sprintf("checksum mismatch: got '%s' != expect '%s'", sha256Hex([]byte("data")), strings.Repeat("a", 64))
	if st["exitstatus"] != want {
		t.Errorf("exitstatus %v, want %q", st["exitstatus"], want)
	}
	if hasVolume(sim.Volumes("pve", "local"), "local:vztmpl/a.tar.gz") {
		t.Error("a mismatching upload was stored")
	}
	// Every refused upload removed its temporary file.
	tmps, _ := filepath.Glob(filepath.Join(sim.NodeFS("pve"), "var/tmp/pveupload-*"))
	if len(tmps) != 0 {
		t.Errorf("temporary upload files left: %v", tmps)
	}
	if _, err := os.Stat(filepath.Join(sim.NodeFS("pve"), "var/lib/vz/template/cache/a.tar.gz")); !os.IsNotExist(err) {
		t.Errorf("refused upload left its file: %v", err)
	}
}

package pvesim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// File uploads take their own way through pve-http-server: the request to
// POST /nodes/{node}/storage/{storage}/upload is authenticated first (no
// CSRF token needed, "difficult to pass with native html forms"), then its
// multipart body is streamed to /var/tmp/pveupload-<hex> on the node that
// serves the API, and the handler gets the form fields plus tmpfilename.
// The "imgcopy" task copies the file to the target node's storage.

// uploadPathRE is the path pve-http-server treats as an upload.
var uploadPathRE = regexp.MustCompile(`^/nodes/[^/]+/storage/[^/]+/upload$`)

// isUpload says whether a request is a file upload: a POST with a body to
// the upload path.
func isUpload(r *http.Request, rel string) bool {
	return r.Method == http.MethodPost && r.ContentLength != 0 && uploadPathRE.MatchString(rel)
}

// uploadFields are the form fields pve-http-server reads before the file
// part, in this order; any other field makes the upload fail.
var uploadFields = []string{"content", "checksum-algorithm", "checksum"}

// maxUploadFieldBytes bounds one form field's value.
const maxUploadFieldBytes = 64 * 1024

// receiveUpload reads an upload's multipart body into params and streams
// its file part to a new temporary file on the API node, whose node path
// it sets as tmpfilename; it returns the file's path on this machine.
func (s *Server) receiveUpload(r *http.Request, params map[string]any) (string, *apiError) {
	ct := r.Header.Get("Content-Type")
	mediaType, mediaParams, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "multipart/form-data" || mediaParams["boundary"] == "" {
		// PVE stops reading such a request without answering it; the
		// simulator answers, with the text pve-http-server logs.
		return "", &apiError{Status: http.StatusNotImplemented, Message: fmt.Sprintf("upload 'Content-Type '%s' not implemented", ct)}
	}
	if _, ok := params["tmpfilename"]; ok {
		return "", errf("'tmpfilename' query parameter is not allowed for file uploads")
	}
	mr := multipart.NewReader(r.Body, mediaParams["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err != nil {
			return "", errf("upload failed")
		}
		disposition, dparams, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if err != nil {
			return "", errf("upload failed")
		}
		if disposition != "form-data" {
			return "", errf("wrong Content-Disposition '%s' in multipart, expected 'form-data'", disposition)
		}
		name, filename := dparams["name"], dparams["filename"]
		if filename == "" {
			if !slices.Contains(uploadFields, name) {
				return "", errf("upload failed")
			}
			value, err := io.ReadAll(io.LimitReader(part, maxUploadFieldBytes))
			if err != nil {
				return "", errf("upload failed")
			}
			params[name] = strings.TrimSpace(string(value))
			continue
		}
		if name != "filename" {
			return "", errf("wrong field name '%s' for file upload, expected 'filename'", name)
		}
		params["filename"] = strings.TrimSpace(filename)
		nodePath, hostPath, err := s.newUploadFile()
		if err != nil {
			return "", errf("unable to create temporary upload file '%s'", nodePath)
		}
		if _, err := copyToNewFile(hostPath, part); err != nil {
			return "", errf("upload failed")
		}
		params["tmpfilename"] = nodePath
		return hostPath, nil
	}
}

// newUploadFile names a fresh /var/tmp/pveupload-<hex> on the API node.
func (s *Server) newUploadFile() (nodePath, hostPath string, err error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nodePath = "/var/tmp/pveupload-" + hex.EncodeToString(b)
	hostPath = filepath.Join(s.nodeFS(s.localNode()), nodePath)
	return nodePath, hostPath, os.MkdirAll(filepath.Dir(hostPath), 0o750)
}

// handleUpload is POST /nodes/{node}/storage/{storage}/upload: pve-storage's
// checks in its order, then an "imgcopy" task that verifies the checksum and
// copies the uploaded file into the target node's storage, overwriting a
// file of the same name.
func (s *Server) handleUpload(q *request) (any, error) {
	sc, aerr := s.storageOrErr(q.str("storage"))
	if aerr != nil {
		return nil, aerr
	}
	if sc.Path == "" {
		return nil, errf("can't upload to storage type '%s'", sc.Type)
	}
	tmpName := q.str("tmpfilename")
	if tmpName == "" {
		return nil, errf("missing temporary file name")
	}
	tmp := filepath.Join(s.nodeFS(s.localNode()), tmpName)
	info, err := os.Stat(tmp)
	if err != nil {
		return nil, errf("temporary file '%s' does not exist", tmpName)
	}
	content := q.str("content")
	f := contentFile{sc: sc, content: content, file: normalizeContentFilename(q.str("filename"))}
	if aerr := checkContentFilename(content, f.file); aerr != nil {
		return nil, aerr
	}
	if !sc.has(content) {
		return nil, errf("storage '%s' does not support '%s' content", sc.ID, content)
	}
	node := q.node()
	checksum := checksumWant{algorithm: q.str("checksum-algorithm"), digest: q.str("checksum")}
	t := s.startTask(node, "imgcopy", "", q.who, 0, q.lockFail, func(ctx context.Context, t *task) error {
		defer func() { _ = os.Remove(tmp) }()
		return s.runUpload(ctx, t, uploadCopy{node: node, tmp: tmp, tmpName: tmpName, size: info.Size(), target: f, checksum: checksum})
	})
	return t.upid, nil
}

// uploadCopy is what an imgcopy task copies where.
type uploadCopy struct {
	node, tmp, tmpName string
	size               int64
	target             contentFile
	checksum           checksumWant
}

// runUpload is the imgcopy worker.
func (s *Server) runUpload(ctx context.Context, t *task, u uploadCopy) error {
	t.log("starting file import from: %s", u.tmpName)
	if u.checksum.set() {
		got, err := fileDigest(u.checksum.algorithm, u.tmp)
		if err != nil {
			return err
		}
		if !u.checksum.matches(got) {
			t.log("calculating checksum...")
			return u.checksum.mismatch(got)
		}
		t.log("calculating checksum...OK, checksum verified")
	}
	dest := u.target.nodePath()
	t.log("target node: %s", u.node)
	t.log("target file: %s", dest)
	t.log("file size is: %d", u.size)
	if u.node == s.localNode() {
		t.log("command: cp -- %s %s", u.tmpName, dest)
	} else {
		t.log("command: /usr/bin/scp -o 'BatchMode=yes' -o 'HostKeyAlias=%s' -p -- %s '[%s]:%s'", u.node, u.tmpName, u.node, dest)
	}
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("imgcopy")); err != nil {
		return err
	}
	path := filepath.Join(s.nodeFS(u.node), u.target.rel())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // template directories are world-readable on PVE
		return err
	}
	if err := copyFileAtomic(u.tmp, path); err != nil {
		return fmt.Errorf("import failed: %w", err)
	}
	if err := s.registerContentFile(u.node, u.target); err != nil {
		return err
	}
	t.log("finished file import successfully")
	return nil
}

// copyFileAtomic copies src to dst through a temporary name, so a reader
// never sees half a file.
func copyFileAtomic(src, dst string) error {
	in, err := os.Open(src) //nolint:gosec // the upload's own temporary file
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	tmp := dst + ".tmp-copy"
	if _, err := copyToNewFile(tmp, in); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

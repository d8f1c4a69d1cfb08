package pvesim

import (
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// knownCompressions is PVE::Storage::Plugin::KNOWN_COMPRESSION_FORMATS,
// the enum of download-url's compression (the schema dump lost it: its
// enum is null there).
var knownCompressions = []string{"gz", "lzo", "zst", "bz2"}

// downloadRequest is a download-url call that passed the synchronous
// checks.
type downloadRequest struct {
	node        string
	url         string
	target      contentFile
	checksum    checksumWant
	compression string
	verify      bool
}

// handleDownloadURL is POST /nodes/{node}/storage/{storage}/download-url:
// pve-storage's checks in its order (storage, file-based, content type,
// file name), then a "download" task whose id is the file name.
func (s *Server) handleDownloadURL(q *request) (any, error) {
	if c := q.str("compression"); q.has("compression") && !slices.Contains(knownCompressions, c) {
		return nil, paramErr1("compression", fmt.Sprintf("value '%s' does not have a value in the enumeration '%s'", c, strings.Join(knownCompressions, ", ")))
	}
	sc, aerr := s.storageOrErr(q.str("storage"))
	if aerr != nil {
		return nil, aerr
	}
	if sc.Path == "" {
		return nil, errf("can't upload to storage type '%s', not a file based storage!", sc.Type)
	}
	content := q.str("content")
	if !sc.has(content) {
		return nil, errf("storage '%s' is not configured for content-type '%s'", sc.ID, content)
	}
	file := normalizeContentFilename(q.str("filename"))
	if aerr := checkContentFilename(content, file); aerr != nil {
		return nil, aerr
	}
	d := downloadRequest{
		node: q.node(), url: q.str("url"), target: contentFile{sc: sc, content: content, file: file},
		checksum:    checksumWant{algorithm: q.str("checksum-algorithm"), digest: q.str("checksum")},
		compression: q.str("compression"), verify: q.str("verify-certificates") != "0",
	}
	t := s.startTask(d.node, "download", encodeTaskID(file), q.who, 0, q.lockFail, func(ctx context.Context, t *task) error {
		return s.runDownload(ctx, t, d)
	})
	return t.upid, nil
}

// runDownload is the worker: PVE::Tools::download_file_from_url with
// wget, the checksum check and the rename into place.
func (s *Server) runDownload(ctx context.Context, t *task, d downloadRequest) error {
	if d.compression != "" && d.target.content != "iso" {
		return fmt.Errorf("decompression not supported for %s", d.target.content)
	}
	dest := d.target.nodePath()
	path := filepath.Join(s.nodeFS(d.node), d.target.rel())
	t.log("downloading %s to %s", d.url, dest)
	if _, err := os.Stat(path); err == nil {
		return s.keepExisting(t, d, path)
	}
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("download")); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // template directories are world-readable on PVE
		return err
	}
	suffix := fmt.Sprintf(".tmp_dwnl.%d", t.UPID.PID)
	tmp := path + suffix
	defer func() { _ = os.Remove(tmp) }()
	logf := func(format string, args ...any) { t.log(format, args...) }
	if err := s.fetchToFile(ctx, d.url, tmp, dest+suffix, d.verify, logf); err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	if d.checksum.set() {
		got, err := fileDigest(d.checksum.algorithm, tmp)
		if err != nil {
			return err
		}
		if !d.checksum.matches(got) {
			t.log("calculating checksum...")
			return d.checksum.mismatch(got)
		}
		t.log("calculating checksum...OK, checksum verified")
	}
	if d.compression != "" {
		if err := decompressFile(t, d.compression, tmp, dest+suffix); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("unable to rename temporary file: %w", err)
	}
	if err := s.registerContentFile(d.node, d.target); err != nil {
		return err
	}
	t.log("download of '%s' to '%s' finished", d.url, dest)
	return nil
}

// keepExisting is download_file_from_url's answer to a file already in
// place: with a checksum, it is kept when it matches and the task fails
// when it does not; without one the task refuses to overwrite it.
func (s *Server) keepExisting(t *task, d downloadRequest, path string) error {
	if !d.checksum.set() {
		return fmt.Errorf("refusing to override existing file '%s'", d.target.nodePath())
	}
	got, err := fileDigest(d.checksum.algorithm, path)
	if err != nil {
		return err
	}
	if !d.checksum.matches(got) {
		t.log("calculating checksum of existing file...")
		return fmt.Errorf("%w, aborting", d.checksum.mismatch(got))
	}
	t.log("calculating checksum of existing file...OK, got correct file already, no need to download")
	// The file may have been put there behind the API's back: it is a
	// volume now, as PVE lists whatever the directory holds.
	return s.registerContentFile(d.node, d.target)
}

// decompressFile decompresses a downloaded ISO in place (gzip and bzip2;
// PVE also knows lzo and zst, which Go's standard library cannot read).
// shown is tmp's name on the node, for the log.
func decompressFile(t *task, compression, tmp, shown string) error {
	decomp := strings.Replace(tmp, ".tmp_dwnl.", ".tmp_dcom.", 1)
	defer func() { _ = os.Remove(decomp) }()
	in, err := os.Open(tmp) //nolint:gosec // the task's own temporary file
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	var r io.Reader
	switch compression {
	case "gz":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return fmt.Errorf("decompressing %s failed: %w", tmp, err)
		}
		r = zr
	case "bz2":
		r = bzip2.NewReader(in)
	default:
		return fmt.Errorf("decompressing %s downloads is not simulated (gz and bz2 are)", compression)
	}
	t.log("decompressing %s to %s", shown, strings.Replace(shown, ".tmp_dwnl.", ".tmp_dcom.", 1))
	if _, err := copyToNewFile(decomp, r); err != nil {
		return fmt.Errorf("decompressing %s failed: %w", tmp, err)
	}
	return os.Rename(decomp, tmp)
}

// taskIDUnsafeRE is what PVE::Tools::encode_text escapes in a worker id:
// control and high-bit bytes and ':'.
var taskIDUnsafeRE = regexp.MustCompile(`[^\x20-\x39\x3b-\x7e]`)

// encodeTaskID is encode_text, the worker id of a download ("must not pass
// : or the like as w-ID").
func encodeTaskID(text string) string {
	return taskIDUnsafeRE.ReplaceAllStringFunc(text, func(c string) string {
		var b strings.Builder
		for _, x := range []byte(c) {
			fmt.Fprintf(&b, "%%%02X", x)
		}
		return b.String()
	})
}

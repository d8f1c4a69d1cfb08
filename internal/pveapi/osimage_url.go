package pveapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// OS images from a URL: the node downloads the file itself (POST
// .../storage/{storage}/download-url, content vztmpl) and Proxmox VE
// verifies its checksum. The file name comes from the URL, or, when the
// URL has none a template could have, from the node's query-url-metadata.
// An image is downloaded once per node: a file of that name already on a
// storage is used, after Proxmox VE checked it against the checksum.

// ImageChecksum is the digest an OS image from a URL must have.
type ImageChecksum struct {
	Algorithm string // "sha256" or "sha512"
	Digest    string // lower-case hex
}

// IsZero says whether no checksum is expected.
func (c ImageChecksum) IsZero() bool { return c.Algorithm == "" }

// String is the "sha256:<hex>" form ParseImageChecksum reads.
func (c ImageChecksum) String() string {
	if c.IsZero() {
		return ""
	}
	return c.Algorithm + ":" + c.Digest
}

// imageChecksumLengths are the algorithms accepted and their hex lengths.
var imageChecksumLengths = map[string]int{"sha256": 64, "sha512": 128}

var hexDigitsRE = regexp.MustCompile(`^[0-9a-fA-F]+$`)

// ParseImageChecksum reads "sha256:<64 hex digits>" or "sha512:<128 hex
// digits>"; the empty string is the zero ImageChecksum.
func ParseImageChecksum(s string) (ImageChecksum, error) {
	if s == "" {
		return ImageChecksum{}, nil
	}
	alg, digest, ok := strings.Cut(s, ":")
	want, known := imageChecksumLengths[strings.ToLower(alg)]
	switch {
	case !ok || !known:
		return ImageChecksum{}, fmt.Errorf("%q is not a checksum: write sha256:<64 hex digits> or sha512:<128 hex digits>", s)
	case len(digest) != want || !hexDigitsRE.MatchString(digest):
		return ImageChecksum{}, fmt.Errorf("a %s checksum is %d hex digits; %q has %d characters", strings.ToLower(alg), want, digest, len(digest))
	}
	return ImageChecksum{Algorithm: strings.ToLower(alg), Digest: strings.ToLower(digest)}, nil
}

// IsImageURL says whether an OS image reference is a URL the node
// downloads (http:// or https://, as download-url accepts).
func IsImageURL(ref string) bool {
	lower := strings.ToLower(ref)
	return strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://")
}

// RedactURL shows a URL without what may be a secret: its user
// information becomes "redacted" and its query string (a download token,
// say) "…". Errors and logs name image URLs this way.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}

// URLMetadata is what a node learns about a URL with a HEAD request
// (GET /nodes/{node}/query-url-metadata). Fields the server did not send
// are empty.
type URLMetadata struct {
	FileName string `json:"filename"`
	Size     int64  `json:"size"`
	MIMEType string `json:"mimetype"`
}

// QueryURLMetadata asks node about a URL: the file name (from
// Content-Disposition, else from the URL), its size and MIME type. A URL
// the node cannot fetch is a 500 "invalid server response: '…'".
func (c *Client) QueryURLMetadata(ctx context.Context, node, rawURL string) (*URLMetadata, error) {
	var out URLMetadata
	p := NewParams().Set("url", rawURL)
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "query-url-metadata"), p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DownloadURLRequest is one download-url call.
type DownloadURLRequest struct {
	URL string
	// Content is "vztmpl" or "iso".
	Content string
	// FileName is the file to create; Proxmox VE normalises it (see
	// NormalizeContentFileName).
	FileName string
	// Checksum, when set, is verified by Proxmox VE before the file is kept.
	Checksum ImageChecksum
}

// DownloadURLAsync has node download a URL into a storage (POST
// /nodes/{node}/storage/{storage}/download-url) and returns the UPID of
// the "download" task.
func (c *Client) DownloadURLAsync(ctx context.Context, node, storage string, req DownloadURLRequest) (string, error) {
	p := NewParams().Set("url", req.URL).Set("content", req.Content).Set("filename", req.FileName)
	if !req.Checksum.IsZero() {
		p.Set("checksum", req.Checksum.Digest).Set("checksum-algorithm", req.Checksum.Algorithm)
	}
	upid, err := c.postTask(ctx, http.MethodPost, apiPath("nodes", node, "storage", storage, "download-url"), p)
	c.lookups.invalidate(node, storage)
	return upid, err
}

// DownloadURL downloads a URL into a storage and waits for the task.
func (c *Client) DownloadURL(ctx context.Context, node, storage string, req DownloadURLRequest) (*TaskResult, error) {
	// The file is there only once the task ends.
	defer c.lookups.invalidate(node, storage)
	return c.waitFor(c.DownloadURLAsync(ctx, node, storage, req))(ctx)
}

// NormalizeContentFileName is the name Proxmox VE gives a downloaded or
// uploaded file: the directory part stripped, every byte outside
// [a-zA-Z0-9_.-] replaced by "_". (The simulator implements the server
// side of this on its own, so the two are checked against each other.)
func NormalizeContentFileName(name string) string {
	name = strings.TrimSuffix(name, "\n")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	out := []byte(name)
	for i, b := range out {
		if !safeFileByte(b) {
			out[i] = '_'
		}
	}
	return string(out)
}

// templateFileRE is a container template archive name, as download-url
// checks it.
var templateFileRE = regexp.MustCompile(`(?i)^[^/]+\.(?:tar|tar\.(?:gz|xz|zst|bz2))$`)

// urlFileRE is Proxmox VE's file name of a URL: its last path segment,
// query string dropped.
var urlFileRE = regexp.MustCompile(`^[^?#]+/([^?#/]*)(?:[?#].*)?$`)

// OSImageFile is the template archive file an OS image reference names:
// a URL's file (as Proxmox VE names it when downloading), a volid's file,
// or a file name itself; "" for an appliance name or a URL whose path
// names no template archive.
func OSImageFile(ref string) string {
	var file string
	switch {
	case IsImageURL(ref):
		if m := urlFileRE.FindStringSubmatch(ref); m != nil {
			file = NormalizeContentFileName(m[1])
		}
	default:
		if _, f, ok := splitVolID(ref); ok {
			ref = f
		}
		file = ref
	}
	if !templateFileRE.MatchString(file) {
		return ""
	}
	return file
}

// urlImageFile is the file an image URL is stored as: the URL's own file
// name when it is a template archive, else the one the node's
// query-url-metadata reports (a download endpoint may name it in
// Content-Disposition).
func (c *Client) urlImageFile(ctx context.Context, node, rawURL string) (string, error) {
	if file := OSImageFile(rawURL); file != "" {
		return file, nil
	}
	meta, err := c.QueryURLMetadata(ctx, node, rawURL)
	if err != nil {
		return "", fmt.Errorf("node %s could not read the file name of %s: %w", node, RedactURL(rawURL), err)
	}
	file := NormalizeContentFileName(meta.FileName)
	if !templateFileRE.MatchString(file) {
		return "", fmt.Errorf("%s does not name a container template file (.tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2), "+
			"and the server does not either (it calls the file %q); serve the image under such a name", RedactURL(rawURL), meta.FileName)
	}
	return file, nil
}

// ErrImageChecksumMismatch reports an image whose checksum is not the
// expected one: a download Proxmox VE discarded, or a file of the same
// name already on the node, which it does not overwrite.
var ErrImageChecksumMismatch = errors.New("OS image checksum mismatch")

// checksumMismatchRE reads Proxmox VE's checksum error.
var checksumMismatchRE = regexp.MustCompile(`checksum mismatch: got '([^']*)' != expect '([^']*)'(, aborting)?`)

// ensureURLImage is EnsureOSImage for a URL; the caller holds imageLock.
func (c *Client) ensureURLImage(ctx context.Context, node, rawURL, storage string, checksum ImageChecksum) (*OSImage, error) {
	file, err := c.urlImageFile(ctx, node, rawURL)
	if err != nil {
		return nil, err
	}
	lookup := file
	if storage != "" {
		lookup = storage + ":vztmpl/" + file
	}
	existing, err := c.FindOSImage(ctx, node, lookup)
	switch {
	case err == nil && checksum.IsZero():
		return existing, nil
	case err == nil && c.verified[verifiedImageKey(node, existing, checksum)]:
		return existing, nil
	case err == nil:
		storage = existing.Storage
	case !errors.Is(err, ErrOSImageNotFound):
		return nil, err
	case storage == "":
		if storage, err = c.firstStorageFor(ctx, node, "vztmpl"); err != nil {
			return nil, err
		}
	}
	subsystemDebug(ctx, "downloading OS image from a URL", map[string]any{"node": node, "storage": storage, "file": file, "url": RedactURL(rawURL)})
	res, err := c.DownloadURL(ctx, node, storage, DownloadURLRequest{URL: rawURL, Content: "vztmpl", FileName: file, Checksum: checksum})
	if err != nil {
		return nil, urlDownloadError(node, storage, file, rawURL, checksum, err)
	}
	img := &OSImage{VolID: storage + ":vztmpl/" + file, Storage: storage, Downloaded: existing == nil, Task: res}
	if !checksum.IsZero() {
		if found, err := c.FindOSImage(ctx, node, img.VolID); err == nil {
			c.verified[verifiedImageKey(node, found, checksum)] = true
		}
	}
	return img, nil
}

// verifiedImageKey names one version of an image file (by its size and
// time) checked against one checksum, so the creates of one apply have it
// verified once.
func verifiedImageKey(node string, img *OSImage, checksum ImageChecksum) string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s", node, img.VolID, img.size, img.ctime, checksum)
}

// urlDownloadError words a failed download: a checksum mismatch says
// which file differs and what to do; other task failures keep the exit
// status (wget's last line), without the task log, which repeats the URL.
func urlDownloadError(node, storage, file, rawURL string, checksum ImageChecksum, err error) error {
	var taskErr *TaskError
	if !errors.As(err, &taskErr) {
		return fmt.Errorf("downloading %s to storage %s of node %s: %w", RedactURL(rawURL), storage, node, err)
	}
	if m := checksumMismatchRE.FindStringSubmatch(taskErr.ExitStatus); m != nil {
		if m[3] != "" {
			return fmt.Errorf("%w: storage %s of node %s already holds %s, and its %s is %s, not the expected %s. Proxmox VE "+
				"does not overwrite it: remove it (pveam remove %s:vztmpl/%s) to download the image again, or serve the new "+
				"image under another file name", ErrImageChecksumMismatch, storage, node, file, checksum.Algorithm, m[1], m[2], storage, file)
		}
		return fmt.Errorf("%w: the file downloaded from %s has %s %s, not the expected %s; Proxmox VE discarded it and "+
			"nothing was stored", ErrImageChecksumMismatch, RedactURL(rawURL), checksum.Algorithm, m[1], m[2])
	}
	return &urlTaskError{task: taskErr, what: fmt.Sprintf("downloading %s to storage %s of node %s failed: %s",
		RedactURL(rawURL), storage, node, taskErr.ExitStatus)}
}

// urlTaskError is a failed download task, worded without its log.
type urlTaskError struct {
	task *TaskError
	what string
}

func (e *urlTaskError) Error() string { return e.what }
func (e *urlTaskError) Unwrap() error { return e.task }

// safeFileByte says whether a byte survives file name normalisation:
// [a-zA-Z0-9_.-].
func safeFileByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-'
}

package pvesim

import (
	"crypto/md5"  //nolint:gosec // PVE offers md5 as a checksum algorithm; it is compared, not trusted for security
	"crypto/sha1" //nolint:gosec // likewise sha1
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The rules download-url and upload share (pve-storage's Status.pm and
// Storage.pm): file names are normalised, each content type has its
// extensions and its directory inside a file-based storage, and a file
// that lands there becomes a volume of the storage.

// normalizeContentFilename is PVE::Storage::normalize_content_filename:
// the directory part is stripped and every byte outside [a-zA-Z0-9_.-]
// becomes "_" (bytes, not characters: PVE's Perl string holds bytes).
func normalizeContentFilename(name string) string {
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

var (
	// vztmplFileRE is `[^/]+$VZTMPL_EXT_RE_1` anchored: a container
	// template archive, case-insensitive as in PVE.
	vztmplFileRE = regexp.MustCompile(`(?i)^[^/]+\.(?:tar|tar\.(?:gz|xz|zst|bz2))$`)
	// isoFileRE is `[^/]+$ISO_EXT_RE_0` anchored.
	isoFileRE = regexp.MustCompile(`(?i)^[^/]+\.(?:iso|img)$`)
)

// contentSubdir is where a storage keeps files of a content type
// (PVE::Storage::Plugin's subdir map).
var contentSubdir = map[string]string{"vztmpl": "template/cache", "iso": "template/iso", "import": "import"}

// checkContentFilename is the extension check download-url and upload run
// on the normalised file name.
func checkContentFilename(content, file string) *apiError {
	switch content {
	case "vztmpl":
		if !vztmplFileRE.MatchString(file) {
			return paramErr1("filename", "wrong file extension")
		}
	case "iso":
		if !isoFileRE.MatchString(file) {
			return paramErr1("filename", "wrong file extension")
		}
	case "import":
		// PVE accepts OVAs and disk images here and inspects them with
		// qemu-img; the simulator has nothing to inspect them with.
		return errf("content type 'import' is not simulated; download or upload vztmpl or iso content")
	}
	return nil
}

// contentFile is where a file of content lands on a node: its path inside
// the node's filesystem directory and the volume it becomes.
type contentFile struct {
	sc      StorageConfig
	content string
	file    string
}

// rel is the file's path inside a node's filesystem directory.
func (f contentFile) rel() string {
	return filepath.Join(strings.TrimPrefix(f.sc.Path, "/"), contentSubdir[f.content], f.file)
}

// nodePath is the file's path as the node sees it ("/var/lib/vz/template/cache/x.tar.zst").
func (f contentFile) nodePath() string { return "/" + f.rel() }

// volid is the volume the file is: "local:vztmpl/x.tar.zst".
func (f contentFile) volid() string { return f.sc.ID + ":" + f.content + "/" + f.file }

// format is the volume's format in content listings.
func (f contentFile) format() string {
	if f.content == "vztmpl" {
		return templateFormat(f.file)
	}
	return f.content // "iso"
}

// registerContentFile records the file now at f's place on node as a
// volume (replacing an earlier one of the same name) and persists it.
func (s *Server) registerContentFile(node string, f contentFile) error {
	info, err := os.Stat(filepath.Join(s.nodeFS(node), f.rel()))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.volumes[volumeKey(node, f.volid())] = &volume{Node: node, Storage: f.sc.ID, VolID: f.volid(), Content: f.content,
		Format: f.format(), Size: info.Size(), CTime: s.now().Unix(), File: f.rel()}
	s.mu.Unlock()
	s.persist()
	return nil
}

// checksumAlgorithms are download-url's and upload's checksum-algorithm
// values (PVE::Tools::get_file_hash).
var checksumAlgorithms = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha224": sha256.New224, "sha256": sha256.New,
	"sha384": sha512.New384, "sha512": sha512.New,
}

// fileDigest is get_file_hash: the lower-case hex digest of a file.
func fileDigest(algorithm, path string) (string, error) {
	newHash, ok := checksumAlgorithms[algorithm]
	if !ok {
		return "", fmt.Errorf("unknown algorithm '%s'", algorithm)
	}
	f, err := os.Open(path) //nolint:gosec // a file the simulator wrote into a node's directory
	if err != nil {
		return "", fmt.Errorf("unable to open '%s': %w", path, err)
	}
	defer func() { _ = f.Close() }()
	h := newHash()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checksumWant is an expected checksum; the zero value expects none.
type checksumWant struct {
	algorithm, digest string
}

func (c checksumWant) set() bool { return c.algorithm != "" }

// matches compares case-insensitively, as PVE does.
func (c checksumWant) matches(got string) bool { return strings.EqualFold(got, c.digest) }

// mismatch is PVE's checksum error text.
func (c checksumWant) mismatch(got string) error {
	return fmt.Errorf("checksum mismatch: got '%s' != expect '%s'", got, c.digest)
}

// safeFileByte says whether a byte survives file name normalisation:
// [a-zA-Z0-9_.-].
func safeFileByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '.' || b == '-'
}

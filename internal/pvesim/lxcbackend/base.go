package lxcbackend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultRootfsCacheDir holds the extracted images that container overlays
// share. Unprivileged containers mount their overlay as their own root
// (uid 100000), so every directory above it must be searchable by others:
// /var/cache is, a home directory usually is not.
const DefaultRootfsCacheDir = "/var/cache/terraform-provider-pve/rootfs"

// baseStore keeps every image extracted once, read-only, as the lower layer
// of the overlays containers run on, in a privileged and (derived from it)
// an id-shifted variant for unprivileged containers. Bases are named by the
// image's SHA-256 and shared by every simulator on the machine; they must
// never change while a container uses them.
type baseStore struct {
	dir string

	mu      sync.Mutex
	digests map[imageFileKey]string
}

// imageFileKey identifies one version of an image file without reading it.
type imageFileKey struct {
	path  string
	size  int64
	mtime int64
}

func newBaseStore(dir string) *baseStore {
	return &baseStore{dir: dir, digests: map[imageFileKey]string{}}
}

// path is where base id lives for containers of the given kind.
func (s *baseStore) path(id string, unprivileged bool) string {
	if unprivileged {
		return filepath.Join(s.dir, fmt.Sprintf("%s.u%d", id, unprivilegedIDBase))
	}
	return filepath.Join(s.dir, id)
}

// fromImage returns the base id of an image file and the lower directory
// for a container of the given kind, extracting the image first if no
// simulator has done so yet.
func (s *baseStore) fromImage(ctx context.Context, imagePath string, unprivileged bool, log func(string)) (id, lower string, err error) {
	id, err = s.imageDigest(imagePath)
	if err != nil {
		return "", "", err
	}
	if err := s.ensure(ctx, id, false, func(tmp string) error {
		log(fmt.Sprintf("extracting archive '%s' (once, into the shared base %s)", imagePath, s.path(id, false)))
		started := time.Now()
		if _, err := runCommand(ctx, "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", imagePath, "-C", tmp); err != nil {
			return err
		}
		log(fmt.Sprintf("extracted in %s", time.Since(started).Round(100*time.Millisecond)))
		return nil
	}); err != nil {
		return "", "", err
	}
	lower, err = s.variant(ctx, id, unprivileged, log)
	return id, lower, err
}

// variant returns the lower directory of base id for a container of the
// given kind, deriving the id-shifted copy from the privileged base when it
// does not exist yet.
func (s *baseStore) variant(ctx context.Context, id string, unprivileged bool, log func(string)) (string, error) {
	privileged := s.path(id, false)
	if !unprivileged {
		if _, err := os.Stat(privileged); err != nil {
			return "", fmt.Errorf("the container's base image %s is gone (was the rootfs cache cleared?): %w", privileged, err)
		}
		return privileged, nil
	}
	err := s.ensure(ctx, id, true, func(tmp string) error {
		if _, err := os.Stat(privileged); err != nil {
			return fmt.Errorf("the container's base image %s is gone (was the rootfs cache cleared?): %w", privileged, err)
		}
		log(fmt.Sprintf("preparing the unprivileged base %s (ids shifted by %d)", s.path(id, true), unprivilegedIDBase))
		if err := os.Remove(tmp); err != nil {
			return err
		}
		if _, err := runCommand(ctx, "cp", "-a", "--reflink=auto", privileged, tmp); err != nil {
			return err
		}
		return shiftOwnership(tmp, true)
	})
	return s.path(id, true), err
}

// ensure makes base id of the given kind exist: under a lock file shared
// with other processes, fill runs on an empty temporary directory that is
// renamed into place only when it succeeded.
func (s *baseStore) ensure(ctx context.Context, id string, unprivileged bool, fill func(tmp string) error) error {
	final := s.path(id, unprivileged)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil { //nolint:gosec // unprivileged containers' root must be able to enter it
		return fmt.Errorf("rootfs cache: %w", err)
	}
	release, err := lockFile(ctx, filepath.Join(s.dir, "."+filepath.Base(final)+".lock"))
	if err != nil {
		return err
	}
	defer release()
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	tmp := filepath.Join(s.dir, fmt.Sprintf(".tmp-%d-%s", os.Getpid(), filepath.Base(final)))
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil { //nolint:gosec // a container root file system: every user must be able to enter it
		return fmt.Errorf("rootfs cache: %w", err)
	}
	if err := fill(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("rootfs cache: %w", err)
	}
	return nil
}

// imageDigest is the SHA-256 of an image file, remembered per file version
// so that creating many containers from one image reads it once.
func (s *baseStore) imageDigest(path string) (string, error) {
	info, err := os.Stat(path) //nolint:gosec // the image is the simulator's own vztmpl volume
	if err != nil {
		return "", fmt.Errorf("OS image: %w", err)
	}
	key := imageFileKey{path: path, size: info.Size(), mtime: info.ModTime().UnixNano()}
	s.mu.Lock()
	digest, ok := s.digests[key]
	s.mu.Unlock()
	if ok {
		return digest, nil
	}
	f, err := os.Open(path) //nolint:gosec // the image is the simulator's own vztmpl volume
	if err != nil {
		return "", fmt.Errorf("OS image: %w", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("OS image %s: %w", path, err)
	}
	digest = hex.EncodeToString(h.Sum(nil))[:32]
	s.mu.Lock()
	s.digests[key] = digest
	s.mu.Unlock()
	return digest, nil
}

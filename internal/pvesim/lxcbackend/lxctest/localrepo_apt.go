package lxctest

import (
	"context"
	"crypto/md5" //nolint:gosec // apt's index format lists MD5 sums beside SHA-256
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// buildAptRepo downloads packages into dir with the host's apt and writes a
// flat repository index (Packages and Release) over every .deb there. When
// the host has no package lists yet, they are fetched once and the
// download retried.
func buildAptRepo(ctx context.Context, dir string, packages []string) error {
	if len(packages) > 0 {
		args := append([]string{"download", "-q"}, packages...)
		if _, err := hostCommand(ctx, dir, "apt-get", args...); err != nil {
			if _, uerr := hostCommand(ctx, "", "apt-get", "update", "-q"); uerr != nil {
				return fmt.Errorf("downloading %s: %w", strings.Join(packages, " "), err)
			}
			if _, err := hostCommand(ctx, dir, "apt-get", args...); err != nil {
				return fmt.Errorf("downloading %s: %w", strings.Join(packages, " "), err)
			}
		}
	}
	debs, err := filepath.Glob(filepath.Join(dir, "*.deb"))
	if err != nil {
		return err
	}
	sort.Strings(debs)
	var index strings.Builder
	for _, deb := range debs {
		control, err := hostCommand(ctx, "", "dpkg-deb", "--field", deb)
		if err != nil {
			return fmt.Errorf("indexing %s: %w", filepath.Base(deb), err)
		}
		sums, size, err := fileSums(deb)
		if err != nil {
			return err
		}
		index.WriteString(strings.TrimRight(control, "\n"))
		// No "./" prefix: apt would request "<repo>/./<file>", which
		// ServeMux redirects to a doubly escaped path — a 404 for every
		// file whose name has an epoch ("%3a") or a '+'.
		fmt.Fprintf(&index, "\nFilename: %s\nSize: %d\nMD5sum: %s\nSHA256: %s\n\n", filepath.Base(deb), size, sums[0], sums[1])
	}
	packagesFile := filepath.Join(dir, "Packages")
	if err := os.WriteFile(packagesFile, []byte(index.String()), 0o600); err != nil {
		return err
	}
	sums, size, err := fileSums(packagesFile)
	if err != nil {
		return err
	}
	arch, err := hostCommand(ctx, "", "dpkg", "--print-architecture")
	if err != nil {
		return err
	}
	release := fmt.Sprintf("Origin: terraform-provider-pve simulator\nLabel: local\nDate: %s\nArchitectures: %s all\nMD5Sum:\n %s %d Packages\nSHA256:\n %s %d Packages\n",
		time.Now().UTC().Format(time.RFC1123), strings.TrimSpace(arch), sums[0], size, sums[1], size)
	return os.WriteFile(filepath.Join(dir, "Release"), []byte(release), 0o600)
}

// fileSums returns a file's MD5 and SHA-256 (hex) and its size.
func fileSums(path string) ([2]string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return [2]string{}, 0, err
	}
	defer func() { _ = f.Close() }()
	hashes := []hash.Hash{md5.New(), sha256.New()} //nolint:gosec // see the import
	size, err := io.Copy(io.MultiWriter(hashes[0], hashes[1]), f)
	if err != nil {
		return [2]string{}, 0, err
	}
	return [2]string{hex.EncodeToString(hashes[0].Sum(nil)), hex.EncodeToString(hashes[1].Sum(nil))}, size, nil
}

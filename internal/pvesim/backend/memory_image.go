package backend

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WritePlaceholderImage writes the memory backend's stand-in for an OS
// image: a real tar archive holding etc/os-release (ID and VERSION_ID taken
// from the appliance name, e.g. debian / 12) and etc/pvesim-placeholder
// (a note saying what the file is). ".tar.zst" files are a valid zstd frame
// (stored, uncompressed blocks), ".tar.gz" a gzip stream, ".tar" a plain tar;
// ".tar.xz" and ".tar.bz2" hold the plain tar, since nothing unpacks them
// on the memory backend. The file is written atomically; its size is returned.
func WritePlaceholderImage(path, appliance string) (int64, error) {
	tarball, err := placeholderTar(appliance)
	if err != nil {
		return 0, err
	}
	var data []byte
	switch {
	case strings.HasSuffix(path, ".tar.zst"):
		data = zstdStored(tarball)
	case strings.HasSuffix(path, ".tar.gz"), strings.HasSuffix(path, ".tgz"):
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(tarball); err != nil {
			return 0, err
		}
		if err := zw.Close(); err != nil {
			return 0, err
		}
		data = buf.Bytes()
	default:
		data = tarball
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}

func placeholderTar(appliance string) ([]byte, error) {
	osID, version := applianceOS(appliance)
	files := []struct{ name, body string }{
		{"etc/os-release", fmt.Sprintf("ID=%s\nVERSION_ID=\"%s\"\nPRETTY_NAME=\"%s %s (pvesim placeholder)\"\n", osID, version, osID, version)},
		{"etc/pvesim-placeholder", "This archive stands in for the OS image " + appliance + ".\nIt was written by the pvesim memory backend, which runs no containers.\n"},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, dir := range []string{"./", "./etc/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "./" + f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// applianceOS reads "debian" and "12" out of "debian-12-standard_12.7-1_amd64.tar.zst".
func applianceOS(appliance string) (osID, version string) {
	name, _, _ := strings.Cut(appliance, "_")
	parts := strings.Split(name, "-")
	osID = parts[0]
	if len(parts) > 1 {
		version = parts[1]
	}
	return osID, version
}

// zstdStored wraps data in a single zstd frame made of raw (stored) blocks,
// which every zstd decoder accepts.
func zstdStored(data []byte) []byte {
	const maxBlock = 128 << 10
	var out bytes.Buffer
	out.Write([]byte{0x28, 0xB5, 0x2F, 0xFD}) // magic 0xFD2FB528, little endian
	// Frame header descriptor: 4-byte content size, single segment.
	out.WriteByte(0xA0)
	var size [4]byte
	binary.LittleEndian.PutUint32(size[:], uint32(len(data))) //nolint:gosec // placeholder images are a few KiB.
	out.Write(size[:])
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), maxBlock)
		last := 0
		if n == len(data) {
			last = 1
		}
		var hdr [4]byte
		binary.LittleEndian.PutUint32(hdr[:], uint32(last)|uint32(n)<<3) //nolint:gosec // n <= 128 KiB.
		out.Write(hdr[:3])
		out.Write(data[:n])
		data = data[n:]
	}
	return out.Bytes()
}

package templatedir

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// digestDomain starts every encoded spec, so a spec digest can never equal
// the digest of some other byte string by construction, and versions the
// encoding: a change to it (or to the Spec type) must change this string.
const digestDomain = "lxctm.templatedir.Spec/v2\x00"

// ComputeDigest returns the hex SHA-256 that identifies everything in the
// spec that is applied to a container: not its own SHA256 field, not
// Source (where a checkout lives), not Image (built from the spec), and
// not content as such — a script or
// file stands in by its digest (ContentDigest), so a compact spec and the
// same spec with its content loaded have one digest. Every producer of a spec (discovery,
// template overrides, bucket merges) uses this one function, so digests
// compare across them.
//
// The hashed bytes are digestDomain followed by every field of Spec in
// declaration order, recursively through Defaults, Features and each
// element of Scripts, Packages and Files (again in declaration order, with
// ContentDigest in place of the content fields and the SHA256 field),
// Source and Image left out, encoded as:
//   - string: its length as a uvarint, then its bytes;
//   - int64: 8 bytes, big-endian two's complement;
//   - bool: one byte, 0 or 1;
//   - list: its length as a uvarint, then each element.
//
// A nil list and an empty list encode alike (Terraform state may turn one
// into the other). Order within lists is significant: call Sort first when
// it may have changed. The encoding is length-prefixed, so no two different
// specs encode to the same bytes.
func (s *Spec) ComputeDigest() string {
	e := digestEncoder{h: sha256.New()}
	e.h.Write([]byte(digestDomain))
	e.str(s.Name)
	e.str(s.AppName)
	e.str(s.Description)
	e.count(len(s.Tags))
	for _, t := range s.Tags {
		e.str(t)
	}
	e.str(s.OSTemplate)
	e.str(s.ConfigPath)
	d := s.Defaults
	e.i64(d.Cores)
	e.i64(d.Memory)
	e.i64(d.Swap)
	e.i64(d.DiskSize)
	e.str(d.Storage)
	e.str(d.Bridge)
	e.boolean(d.Unprivileged)
	e.boolean(d.Features.Nesting)
	e.boolean(d.Features.Keyctl)
	e.boolean(d.Features.Fuse)
	e.count(len(s.Scripts))
	for _, sc := range s.Scripts {
		e.str(sc.Name)
		e.i64(sc.Order)
		e.str(sc.ContentDigest())
		e.boolean(sc.Enabled)
	}
	e.count(len(s.Packages))
	for _, p := range s.Packages {
		e.str(p.Bucket)
		e.str(p.Manager)
		e.str(p.Spec)
		e.str(p.Name)
		e.str(p.Version)
		e.str(p.Check)
		e.str(p.Install)
		e.i64(p.Timeout)
	}
	e.count(len(s.Files))
	for _, f := range s.Files {
		e.str(f.Name)
		e.str(f.TargetPath)
		e.str(f.Policy)
		e.str(f.Mode)
		e.str(f.ContentDigest())
	}
	return hex.EncodeToString(e.h.Sum(nil))
}

// digestEncoder writes the encoding ComputeDigest documents straight into
// the hash (writes to a hash.Hash never fail).
type digestEncoder struct {
	h       hash.Hash
	scratch [binary.MaxVarintLen64]byte
	chunk   [4096]byte
}

func (e *digestEncoder) count(n int) {
	e.h.Write(binary.AppendUvarint(e.scratch[:0], uint64(n))) //nolint:gosec // n is a length, never negative
}

func (e *digestEncoder) str(s string) {
	e.count(len(s))
	for len(s) > 0 { // through a fixed buffer: no copy of the whole string
		n := copy(e.chunk[:], s)
		e.h.Write(e.chunk[:n])
		s = s[n:]
	}
}

func (e *digestEncoder) i64(v int64) {
	e.h.Write(binary.BigEndian.AppendUint64(e.scratch[:0], uint64(v))) //nolint:gosec // two's complement bits are the documented encoding
}

func (e *digestEncoder) boolean(b bool) {
	v := byte(0)
	if b {
		v = 1
	}
	e.h.Write(append(e.scratch[:0], v))
}

// sha256Hex is the digest used for scripts and files: hex SHA-256 of the raw bytes.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

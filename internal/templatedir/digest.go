package templatedir

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// ComputeDigest returns the hex SHA-256 of the spec without its own SHA256
// field. The encoding is encoding/json of the Spec struct (fields in
// declaration order, keys as in the json tags) with SHA256 set to "" and
// nil slices encoded as empty lists, so a spec that went through Terraform
// state (where an empty list may come back as nil) digests the same. Slice
// order is significant: call Sort first when the order may have changed.
// Every producer of a spec (discovery, template overrides, bucket merges)
// uses this one function, so digests compare across them.
func (s *Spec) ComputeDigest() string {
	c := *s
	c.SHA256 = ""
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Scripts == nil {
		c.Scripts = []Script{}
	}
	if c.Packages == nil {
		c.Packages = []Package{}
	}
	if c.Files == nil {
		c.Files = []File{}
	}
	h := sha256.New()
	// Encoding a struct of strings, ints, bools and slices of them cannot
	// fail, so the error is impossible; a panic would surface a broken
	// invariant loudly instead of producing a wrong digest silently.
	if err := json.NewEncoder(h).Encode(&c); err != nil {
		panic("templatedir: encoding a spec for its digest: " + err.Error())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sha256Hex is the digest used for scripts and files: hex SHA-256 of the raw bytes.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

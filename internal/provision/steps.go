package provision

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strconv"

	"github.com/lxctm/terraform-provider-pve/internal/templatedir"
)

// Step kinds: what a step key starts with and the "kind" of a result.
const (
	KindPackage = "package"
	KindScript  = "script"
	KindFile    = "file"
)

// Step result statuses.
const (
	StatusOK      = "ok"      // already as the spec wants it
	StatusChanged = "changed" // the agent changed the container
	StatusSkipped = "skipped" // not run (unchanged, stopped early, or the tool is absent)
	StatusFailed  = "failed"
)

// ObservedMissing is the observed digest of a managed file that does not
// exist in the container; a bucket with packages missing is observed as
// "missing:<spec>,<spec>…".
const ObservedMissing = "missing"

// PackageKey is the step key of a package bucket: one step installs the
// bucket's packages of one manager in one call.
func PackageKey(manager, bucket string) string { return KindPackage + ":" + manager + ":" + bucket }

// ScriptKey is the step key of a script.
func ScriptKey(name string) string { return KindScript + ":" + name }

// FileKey is the step key of a file, by its absolute target path.
func FileKey(target string) string { return KindFile + ":" + target }

// step is one unit of provisioning with everything the agent needs for it.
type step struct {
	key    string
	kind   string
	digest string // what applying it makes true (the value stored in state)
	// compact: a script or file known by its digest only; its content
	// must be loaded (templatedir.LoadContent) before the step can run.
	compact bool

	// package buckets
	manager string
	bucket  string
	rows    []templatedir.Package
	// scripts
	script templatedir.Script
	// files
	file       templatedir.File
	content    []byte
	contentSHA string
	mode       string // normalised: four octal digits
	policy     string
}

// Desired returns the digest of every step the spec asks for, by step key:
// package buckets ("package:<manager>:<bucket>", a digest over the
// bucket's rows), enabled scripts ("script:<name>", the sha256 of the
// content) and files ("file:<target>", a digest of content, policy and
// mode). State stores what was applied in the same form, so a key whose
// digest differs from state is a step to (re)apply. An invalid spec still
// gets digests (NewRun reports what is wrong with it).
func Desired(spec templatedir.Spec) map[string]string {
	steps, _ := planSteps(spec)
	out := make(map[string]string, len(steps))
	for _, s := range steps {
		out[s.key] = s.digest
	}
	return out
}

// planSteps turns a spec into its steps in execution order: package
// buckets per manager (apt, apk, dnf, npm, pip, custom) in order of first
// appearance, then enabled scripts by (order, name), then files by (name,
// target). Problems are collected, not fatal, so Desired works on any spec.
func planSteps(spec templatedir.Spec) ([]step, []error) {
	sorted := spec
	sorted.Scripts = slices.Clone(spec.Scripts)
	sorted.Packages = slices.Clone(spec.Packages)
	sorted.Files = slices.Clone(spec.Files)
	sorted.Sort()

	var steps []step
	var errs []error
	seen := map[string]bool{}
	add := func(s step, problems []error) {
		errs = append(errs, problems...)
		if seen[s.key] {
			errs = append(errs, fmt.Errorf("%s appears twice in the template", Describe(s.key)))
			return
		}
		seen[s.key] = true
		steps = append(steps, s)
	}
	for _, s := range bucketSteps(sorted.Packages) {
		add(s, checkBucket(s))
	}
	for _, p := range sorted.Packages {
		if !slices.Contains(templatedir.Managers(), p.Manager) {
			errs = append(errs, fmt.Errorf("package %q in bucket %q: unknown package manager %q", p.Spec, p.Bucket, p.Manager))
		}
	}
	for _, sc := range sorted.Scripts {
		if sc.Enabled {
			add(scriptStep(sc))
		}
	}
	for _, f := range sorted.Files {
		add(fileStep(f))
	}
	return steps, errs
}

// bucketSteps groups package rows into one step per (manager, bucket):
// managers in their fixed order, buckets in order of first appearance.
// Rows of an unknown manager get no step.
func bucketSteps(packages []templatedir.Package) []step {
	var steps []step
	for _, manager := range templatedir.Managers() {
		var order []string
		buckets := map[string][]templatedir.Package{}
		for _, p := range packages {
			if p.Manager != manager {
				continue
			}
			if _, ok := buckets[p.Bucket]; !ok {
				order = append(order, p.Bucket)
			}
			buckets[p.Bucket] = append(buckets[p.Bucket], p)
		}
		for _, bucket := range order {
			rows := buckets[bucket]
			steps = append(steps, step{
				key: PackageKey(manager, bucket), kind: KindPackage, manager: manager, bucket: bucket, rows: rows,
				digest: bucketDigest(manager, bucket, rows),
			})
		}
	}
	return steps
}

// scriptStep is an enabled script's step, with what is wrong with it. A
// compact script (a digest, no content) is a valid step whose content is
// loaded before it runs.
func scriptStep(sc templatedir.Script) (step, []error) {
	s := step{key: ScriptKey(sc.Name), kind: KindScript, script: sc}
	s.compact = sc.Content == "" && !sc.ContentLoaded()
	s.digest = templatedir.Script{Content: sc.Content}.ContentDigest() // what runs is what counts
	if s.compact {
		s.digest = sc.ContentDigest()
	}
	if err := checkScript(sc, s.compact); err != nil {
		return s, []error{err}
	}
	return s, nil
}

// fileStep is a file's step, with what is wrong with it. A file whose
// content cannot be decoded gets a digest no real file has.
func fileStep(f templatedir.File) (step, []error) {
	var errs []error
	s := step{key: FileKey(f.Target()), kind: KindFile, file: f, policy: f.Policy}
	var err error
	s.content, err = f.Raw()
	if err != nil {
		errs = append(errs, fmt.Errorf("file %q: %w", f.Name, err))
	}
	sum := sha256.Sum256(s.content)
	s.contentSHA = hex.EncodeToString(sum[:])
	if err == nil && len(s.content) == 0 && !f.ContentLoaded() {
		s.compact, s.contentSHA = true, f.ContentDigest()
	}
	mode, modeErr := normalizeMode(f.Mode)
	if modeErr != nil {
		errs = append(errs, fmt.Errorf("file %q: %w", f.Name, modeErr))
		mode = f.Mode
	}
	s.mode = mode
	if err != nil {
		// Never equal to a real file's digest: the spec is broken.
		s.digest = "invalid:" + f.ContentBase64
	} else {
		s.digest = FileDigest(s.contentSHA, f.Policy, mode)
	}
	if s.compact {
		return s, append(errs, checkFile(f, f.ContentDigest())...)
	}
	return s, append(errs, checkFile(f, s.contentSHA)...)
}

// FileDigest is the digest of a file step: the sha256 of the file's
// content with its policy and mode (four octal digits). The agent
// computes the same from what it finds in the container, so a drifted
// file (content or mode) shows as a different digest.
func FileDigest(contentSHA, policy, mode string) string {
	sum := sha256.Sum256([]byte("lxctm.provision.file/v1\n" + contentSHA + "\n" + policy + "\n" + mode + "\n"))
	return hex.EncodeToString(sum[:])
}

// bucketDigest identifies a bucket's rows: every field that changes what
// gets installed (the spec with its pin, and for custom rows the check,
// install command and timeout).
func bucketDigest(manager, bucket string, rows []templatedir.Package) string {
	e := digestWriter{h: sha256.New()}
	e.h.Write([]byte("lxctm.provision.bucket/v1\x00"))
	e.str(manager)
	e.str(bucket)
	e.num(int64(len(rows)))
	for _, r := range rows {
		e.str(r.Spec)
		e.str(r.Check)
		e.str(r.Install)
		e.num(r.Timeout)
	}
	return hex.EncodeToString(e.h.Sum(nil))
}

// digestWriter length-prefixes every string so no two row lists hash alike.
type digestWriter struct{ h hash.Hash }

func (e digestWriter) str(s string) {
	e.num(int64(len(s)))
	e.h.Write([]byte(s))
}

func (e digestWriter) num(n int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n)) //nolint:gosec // two's complement bytes are what we hash
	e.h.Write(b[:])
}

// normalizeMode turns "644", "0644" or "0o644" into "0644".
func normalizeMode(mode string) (string, error) {
	if mode == "" {
		return "0644", nil
	}
	s := mode
	if len(s) > 2 && (s[:2] == "0o" || s[:2] == "0O") {
		s = s[2:]
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return "", fmt.Errorf("mode %q is not an octal file mode such as \"0644\"", mode)
	}
	return fmt.Sprintf("%04o", n), nil
}

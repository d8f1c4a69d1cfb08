// Package templatedir is the one parser of LXC template directories
// (template.conf, container-configs/scripts, packages and files with their
// .path/.policy sidecars), implementing the canonical template-directory
// format rule for rule (each rule has a test here; the reference system's
// three parsers disagreed, this one settles them). It turns a directory
// into the template spec (Spec) that
// the discovery data source emits and pve_lxc_template and
// pve_lxc_container consume, with a digest (Spec.ComputeDigest) that every
// producer of a spec computes the same way.
//
// Discover parses every template under a root directory, LoadTemplate one
// template directory, ParseTemplate one template inside any fs.FS.
// ParsePackageFile and ValidatePackageSpec are the package-list rules on
// their own, for package buckets. Findings are Problem values (file, line,
// message) split into errors and warnings; the caller decides whether an
// invalid template fails the run or is skipped.
//
// The package is pure: it never runs what it reads (template.conf is bash,
// evaluated here only as far as plain assignments go), and its reads stay
// inside the directory it was given: symlinks are resolved here and one
// leading out of its template is an error, not a read.
package templatedir

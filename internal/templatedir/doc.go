// Package templatedir parses LXC template directories (template.conf,
// scripts, package lists, files with sidecars) into the template spec that
// flows through the whole provider. It is pure: it reads through fs.FS and
// never runs anything it reads.
package templatedir

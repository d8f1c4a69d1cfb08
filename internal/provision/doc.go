// Package provision turns a template spec into one provisioning run inside a
// container: the embedded agent script, the manifest and tar stream it reads
// on stdin, and the parsing of the JSON-line results it writes.
package provision

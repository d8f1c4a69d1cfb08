// Package pveschema checks Proxmox VE API requests against the official API
// schema before any simulator handler runs, the way PVE's own
// JSONSchema.pm does: unknown parameters, types, formats, property strings,
// patterns, lengths, ranges, enums and "requires", with the exact error texts
// a real server sends. The schema is the LXC subset of PVE's API dump,
// embedded at build time (see SOURCE.md), so the simulator accepts and rejects
// what a real PVE 9.1 does without a hand-written list of rules.
package pveschema

// Package pvesim is a Proxmox VE lookalike: an HTTPS API validated against
// the official schema, with tasks, locks, storage, faults and an SSH node
// that understands pct. Tests, the demo and users' CI pipelines run the
// provider against it when no real Proxmox VE is reachable.
package pvesim

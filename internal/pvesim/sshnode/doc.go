// Package sshnode is the SSH side of a simulated Proxmox VE node. Real
// providers and tools reach a node over SSH and run pct there, because the
// Proxmox VE API has no way to run a command in, or copy a file into, a
// container. The server answers password and public-key logins for root,
// parses each exec request like the node's login shell would for a simple
// command, and implements pct exec, push, pull, status, list and unlock with the
// texts and exit codes of the real pct. What a container is, and how a
// command runs inside it, is the simulator's business, reached through Host.
package sshnode

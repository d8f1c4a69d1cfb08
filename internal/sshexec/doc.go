// Package sshexec runs commands on Proxmox VE nodes over SSH (pct exec and
// friends). It owns host-key verification, connection reuse, the typed exit
// error and the project's only shell-quoting function.
package sshexec

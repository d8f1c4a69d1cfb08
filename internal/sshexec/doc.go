// Package sshexec runs commands on Proxmox VE nodes over SSH (pct exec and
// friends), because the Proxmox VE API cannot run a command in, or copy a
// file into, a container. It owns host-key verification, connection reuse,
// the typed exit error and the project's only shell-quoting function.
//
// A Client keeps one connection per node, shared by concurrent Runs and
// checked with OpenSSH keepalives. A connection found dead before a
// session opens is re-dialled once; a command whose connection drops while
// it runs fails with ErrInterrupted and is never re-run, since it may have
// taken effect. Run returns stdout, stderr and the exit status separately,
// with *ExitError for a non-zero status, and streams output lines to
// callbacks for progress. Host keys are verified against known_hosts or
// pinned keys; turning verification off is explicit and logged as a
// warning on every connection.
package sshexec

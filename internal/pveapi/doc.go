// Package pveapi is the Proxmox VE HTTP API client: authentication (API
// tokens, tickets), TLS verification and pinning, the one request core with
// PVE's envelope and error classification, the retry policy, task waiting and
// the typed LXC, storage and cluster endpoints the provider needs. It knows
// nothing about Terraform.
//
// Where things live:
//
//   - config.go, tls.go: Config, New's validation, trust (system roots, CA,
//     SHA-256 pin) and minimum TLS version.
//   - auth.go: API token header; ticket login, renewal before the 2 h
//     lifetime ends and the single re-login after a 401.
//   - client.go: Client and Do, the one request core (credentials, request
//     cap, retries, envelope, errors).
//   - transport.go: *TransportError, a request without an HTTP answer,
//     worded as what happened (timeout, closed connection, TLS failure) and
//     knowing whether the request left in full.
//   - timeouts.go: the per-request connect and response bounds and the
//     *TimeoutError that names the phase that stalled (it wraps the
//     request's *TransportError).
//   - retry.go: the whole retry policy (what is retried, backoff, which
//     failed tasks are dispatched again; a timed-out request never is) and
//     which failed mutations may nevertheless have acted.
//   - errors.go: *APIError and the ErrNotFound/ErrAlreadyExists/ErrLocked/
//     ErrNotRunning/ErrAlreadyRunning/ErrSnapshotUnsupported classification
//     of PVE's texts (also applied to a failed task's exit status).
//   - params.go, loosejson.go: form/query encoding (Params) and PVE's
//     loosely typed JSON.
//   - tasks.go: task status, logs and WaitTask.
//   - cluster.go, lxc.go, lxcconfig.go, snapshot.go, storage.go, vmid.go:
//     typed endpoints, the container config wrapper, container snapshots
//     and collision-free VMID allocation; createlock.go: telling a running
//     create from one that died and left "lock: create" behind.
//   - osimage.go, lookupcache.go: finding (by pveformat's appliance name
//     rules) and downloading OS images, and the
//     short-lived cache of the storage and image lists every create repeats;
//     osimage_url.go: images downloaded from a URL (download-url,
//     query-url-metadata, checksums).
//
// Behaviour follows real PVE (pve-http-server, pve-container), not a fake: a
// body is never sent with GET or DELETE, booleans are 0/1, CSRF tokens go
// only with tickets on writes, and mutations are retried only when PVE says
// nothing happened. A create or clone is a plain error only when PVE
// definitely refused it; every other failure is an *AmbiguousCreateError
// naming the VMID, so the caller never orphans a container it may have made.
package pveapi

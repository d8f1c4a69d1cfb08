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
//   - retry.go: the whole retry policy (what is retried, backoff).
//   - timeouts.go: the per-request connect and response bounds and the
//     *TimeoutError that names the phase that stalled.
//   - errors.go: *APIError and the ErrNotFound/ErrAlreadyExists/ErrLocked
//     classification of PVE's texts.
//   - params.go, loosejson.go: form/query encoding (Params) and PVE's
//     loosely typed JSON.
//   - tasks.go: task status, logs and WaitTask.
//   - cluster.go, lxc.go, lxcconfig.go, storage.go, vmid.go: typed endpoints,
//     the container config wrapper and collision-free VMID allocation.
//
// Behaviour follows real PVE (pve-http-server, pve-container), not a fake: a
// body is never sent with GET or DELETE, booleans are 0/1, CSRF tokens go
// only with tickets on writes, and mutations are retried only when PVE says
// nothing happened.
package pveapi

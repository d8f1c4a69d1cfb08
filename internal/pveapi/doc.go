// Package pveapi is the Proxmox VE HTTP API client: authentication (API
// tokens, tickets), TLS verification and pinning, the one request core with
// PVE's envelope and error classification, the retry policy, task waiting and
// the typed LXC, storage and cluster endpoints the provider needs. It knows
// nothing about Terraform.
package pveapi

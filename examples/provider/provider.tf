terraform {
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

# API token authentication: the usual choice for automation.
provider "pve" {
  endpoint        = "https://pve.example.com:8006"
  api_token       = var.pve_api_token # "terraform@pve!provider=<uuid>"
  tls_fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

  # SSH to the nodes is needed only to provision containers (pct exec).
  ssh {
    username    = "root"
    private_key = var.ssh_private_key
    host_key    = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKsFO9jXoaHRd4C4iqAo06DWVZbGr8FCCbVJ7mDjZvV9"

    node {
      name    = "pve"
      address = "10.0.0.10"
    }
  }
}

variable "pve_api_token" {
  description = "API token, \"user@realm!tokenid=secret\"; or leave it unset and export PVE_API_TOKEN."
  type        = string
  sensitive   = true
}

variable "ssh_private_key" {
  description = "Unencrypted private key for root on the nodes, e.g. the contents of ~/.ssh/id_ed25519."
  type        = string
  sensitive   = true
}

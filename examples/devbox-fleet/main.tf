# A root configuration that uses the devbox-fleet module. It runs as is
# against the built-in simulator in CI (simulate-apply.sh, see the guide
# "The simulator in your CI") or against a real Proxmox VE: the API
# settings come from PVE_* environment variables.

terraform {
  required_version = ">= 1.11"
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

# SSH access to the node, which provisioning needs, comes from the
# variables below; left unset, the containers are created through the API
# only and their template's scripts, packages and files are not applied.
provider "pve" {
  dynamic "ssh" {
    for_each = var.ssh_node == null ? [] : [var.ssh_node]
    content {
      password = var.ssh_password
      host_key = ssh.value.host_key
      node {
        name    = var.node
        address = ssh.value.host
        port    = ssh.value.port
      }
    }
  }
}

variable "node" {
  description = "Proxmox VE node to run the fleet on."
  type        = string
  default     = "pve"
}

variable "devboxes" {
  description = "Number of developer containers."
  type        = number
  default     = 2
}

variable "ssh_node" {
  description = "Where the node's SSH server listens and its host key; null for no provisioning."
  type = object({
    host     = string
    port     = number
    host_key = string
  })
  default = null
}

variable "ssh_password" {
  description = "root's SSH password on the node."
  type        = string
  default     = null
  sensitive   = true
}

module "devboxes" {
  source = "../modules/devbox-fleet"

  node         = var.node
  instances    = var.devboxes
  template_dir = "${path.module}/templates"
}

output "addresses" {
  description = "IPv4 address of each developer container, by host name."
  value       = module.devboxes.addresses
}

output "ids" {
  description = "node/vmid of each developer container."
  value       = module.devboxes.ids
}

# Quickstart: discover the template directories next to this file, add a
# package bucket, finalise one template and run two containers from it.
# `make demo` runs it against the built-in simulator; against a real
# Proxmox VE set PVE_ENDPOINT and credentials instead (see README.md).

terraform {
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

# API settings come from PVE_* environment variables (make demo exports
# them). SSH access to the node, which provisioning needs, comes from the
# variables below: make demo sets them when the simulator runs real
# containers, and leaves them unset (API only) otherwise.
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
  description = "Proxmox VE node to run the containers on."
  type        = string
  default     = "pve"
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

data "pve_template_discovery" "all" {
  path = "${path.module}/templates"
}

resource "pve_package_bucket" "tools" {
  name        = "tools"
  description = "Tools every container gets"

  package {
    manager = "apt"
    spec    = "htop"
  }

  package {
    manager = "apt"
    spec    = "tmux"
  }
}

resource "pve_lxc_template" "web" {
  node        = var.node
  source_spec = data.pve_template_discovery.all.templates["web"]
  packages    = pve_package_bucket.tools.packages
}

resource "pve_lxc_container" "web" {
  count    = 2
  node     = var.node
  hostname = "web-${count.index + 1}"
  template = pve_lxc_template.web.spec
  tags     = ["quickstart"]
}

variable "devboxes" {
  description = "Development boxes to clone from a golden image of the devbox template (needs SSH, and the devbox's packages need the internet)."
  type        = number
  default     = 0
}

# The devbox, provisioned once into a golden image when boxes are wanted:
# each box is a linked clone, ready in seconds, with a machine id, SSH host
# keys and a dev password of its own (see the guide "Golden images").
resource "pve_lxc_template" "devbox" {
  count       = var.devboxes > 0 ? 1 : 0
  node        = var.node
  source_spec = data.pve_template_discovery.all.templates["devbox"]
  image {}
}

resource "pve_lxc_container" "devbox" {
  count    = var.devboxes
  node     = var.node
  hostname = "devbox-${count.index + 1}"
  template = pve_lxc_template.devbox[0].spec
}

output "container_ids" {
  description = "node/vmid of each container."
  value       = pve_lxc_container.web[*].id
}

output "container_addresses" {
  description = "IPv4 address of each container."
  value       = { for c in pve_lxc_container.web : c.hostname => c.ipv4 }
}

output "services" {
  description = "Services each container runs (empty without provisioning)."
  value       = { for c in pve_lxc_container.web : c.hostname => c.services }
}

output "template_digest" {
  description = "Digest of the finalised web template."
  value       = pve_lxc_template.web.sha256
}

output "devboxes" {
  description = "IPv4 address of each devbox."
  value       = { for c in pve_lxc_container.devbox : c.hostname => c.ipv4 }
}

output "templates_found" {
  description = "Templates the discovery found."
  value       = keys(data.pve_template_discovery.all.templates)
}

terraform {
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

# The finalised template the first container is built from (see the
# pve_lxc_template example); ./templates/web is a template directory.
resource "pve_lxc_template" "web" {
  node       = "pve"
  source_dir = "${path.module}/templates/web"
}

# A container built from a finalised template: it takes the template's
# defaults (cores, memory, disk, features, OS image) unless it sets them.
resource "pve_lxc_container" "web" {
  node     = "pve"
  hostname = "web-1"
  template = pve_lxc_template.web.spec

  memory = 1024
  tags   = ["web", "prod"]

  network = [{
    bridge = "vmbr0"
    ip     = "10.0.10.21/24"
    gw     = "10.0.10.1"
  }]

  mount_points = {
    mp0 = { storage = "local-lvm", size = 16, path = "/srv/data", backup = true }
  }

  ssh_public_keys = var.ssh_public_keys

  timeouts {
    create = "20m"
  }
}

# A container without a template: an OS image and settings only.
resource "pve_lxc_container" "plain" {
  node        = "pve"
  os_template = "debian-12-standard"
  cores       = 1
  memory      = 512
  disk_size   = 8
  features    = { nesting = true }
  onboot      = true
  startup     = { order = 10, up = 30 }
}

variable "ssh_public_keys" {
  description = "Public keys for root in the container, one per line (authorized_keys form)."
  type        = string
}

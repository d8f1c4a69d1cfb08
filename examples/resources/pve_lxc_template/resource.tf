terraform {
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

data "pve_template_discovery" "all" {
  path = "${path.module}/templates"
}

resource "pve_package_bucket" "monitoring" {
  name = "monitoring"
  package {
    manager = "apt"
    spec    = "prometheus-node-exporter"
  }
}

# A discovered template, with a bigger default and an extra bucket merged in.
# The node gets the template's OS image (downloaded once when missing).
resource "pve_lxc_template" "web" {
  node        = "pve"
  storage     = "local"
  source_spec = data.pve_template_discovery.all.templates["web"]
  packages    = pve_package_bucket.monitoring.packages

  defaults = {
    memory = 1024
    cores  = 2
  }
}

# A single template directory, parsed directly, provisioned once into a
# golden image (a Proxmox VE template) that containers are cloned from.
resource "pve_lxc_template" "devbox" {
  node        = "pve"
  source_dir  = "${path.module}/templates/devbox"
  os_template = "debian-12-standard"

  image {
    storage = "local-lvm"
    clone   = "linked"
  }
}

# Linked clones of the image: each runs only its own part of provisioning
# (a machine id, SSH host keys and secrets of its own).
resource "pve_lxc_container" "devbox" {
  count    = 3
  node     = "pve"
  hostname = "devbox-${count.index + 1}"
  template = pve_lxc_template.devbox.spec
}

resource "pve_lxc_container" "web" {
  node     = "pve"
  hostname = "web-1"
  template = pve_lxc_template.web.spec
}

# A reusable module: a fleet of identical developer containers on one
# Proxmox VE node, built from one template directory. The calling
# configuration configures the pve provider (this module has no provider
# block), so the same module runs against a real Proxmox VE or against the
# provider's built-in simulator in CI.

terraform {
  required_version = ">= 1.11"
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

data "pve_template_discovery" "this" {
  path = var.template_dir
}

# The template, finalised once for the node: its OS image is made available
# there (downloaded once when missing) and every container takes its spec.
resource "pve_lxc_template" "devbox" {
  node        = var.node
  source_spec = data.pve_template_discovery.this.templates[var.template_name]
}

resource "pve_lxc_container" "devbox" {
  count    = var.instances
  node     = var.node
  hostname = "${var.name_prefix}-${count.index + 1}"
  template = pve_lxc_template.devbox.spec
  tags     = var.tags
}

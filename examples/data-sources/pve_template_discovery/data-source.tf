terraform {
  required_providers {
    pve = {
      source = "lxctm/pve"
    }
  }
}

# Every template directory under ./templates (each holds a template.conf).
data "pve_template_discovery" "all" {
  path = "${path.module}/templates"
}

# Only some templates; leave out invalid ones with a warning instead of failing.
data "pve_template_discovery" "web_only" {
  path         = "${path.module}/templates"
  names        = ["web"]
  skip_invalid = true
}

output "template_names" {
  value = keys(data.pve_template_discovery.all.templates)
}

output "web_digest" {
  value = jsondecode(data.pve_template_discovery.all.templates["web"]).sha256
}

output "discovery_warnings" {
  value = data.pve_template_discovery.all.warnings
}

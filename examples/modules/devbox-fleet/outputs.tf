output "addresses" {
  description = "IPv4 address of each container, by host name."
  value       = { for c in pve_lxc_container.devbox : c.hostname => c.ipv4 }
}

output "ids" {
  description = "node/vmid of each container."
  value       = pve_lxc_container.devbox[*].id
}

output "template_digest" {
  description = "Digest of the finalised template: it changes whenever what the containers get changes."
  value       = pve_lxc_template.devbox.sha256
}

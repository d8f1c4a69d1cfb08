# Every container of the cluster (templates are never listed).
list "pve_lxc_container" "all" {
  provider = pve
}

# The web containers in production on one node, with their full settings.
list "pve_lxc_container" "web" {
  provider         = pve
  include_resource = true

  config {
    node     = "pve"
    tags     = ["web", "prod"]
    hostname = "web-*"
  }
}

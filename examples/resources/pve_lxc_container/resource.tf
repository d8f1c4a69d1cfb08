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

  ssh_public_keys = file("~/.ssh/id_ed25519.pub")

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

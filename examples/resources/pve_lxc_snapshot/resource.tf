terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}

resource "pve_lxc_container" "db" {
  node        = "pve"
  hostname    = "db-1"
  os_template = "debian-12-standard"
  storage     = "local-lvm" # snapshots need LVM-thin, ZFS, Ceph RBD or BTRFS
}

# A snapshot to come back to before a risky change. Changing the
# description updates it in place; a new name takes a new snapshot.
resource "pve_lxc_snapshot" "before_upgrade" {
  node        = pve_lxc_container.db.node
  vmid        = pve_lxc_container.db.vmid
  name        = "before-pg17"
  description = "PostgreSQL 16, before the upgrade to 17"
}

# Import a snapshot by <node>/<vmid>/<snapshot name>.
terraform import pve_lxc_snapshot.before_upgrade pve/101/before-pg17

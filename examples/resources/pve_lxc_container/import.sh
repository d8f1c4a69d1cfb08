# Import a container by <node>/<vmid>.
terraform import pve_lxc_container.web pve/101

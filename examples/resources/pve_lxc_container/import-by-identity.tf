import {
  to       = pve_lxc_container.web
  identity = { node = "pve", vmid = 101 }
}

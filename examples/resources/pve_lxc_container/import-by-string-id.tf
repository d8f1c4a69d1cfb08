import {
  to = pve_lxc_container.web
  id = "pve/101"
}

#!/usr/bin/env bash
# Uses the helpers the reference system gave scripts.
set -euo pipefail
log_info "provisioning $TEMPLATE_NAME on $CONTAINER_HOSTNAME for $CONTAINER_USER ($CONTAINER_OS $CONTAINER_OS_VERSION, $_PKG_MGR)"
ensure_installed tree
run_as_user sh -c 'id -un; echo "$HOME"' > /root/run-as-user.txt
save_credential e2e-app USERNAME admin
if ! grep -qs '^PASSWORD=' /etc/lxctm/credentials/e2e-app; then
  save_credential e2e-app PASSWORD "$(generate_password 24)"
fi
echo 20-helpers.sh >> /var/log/e2e-runs

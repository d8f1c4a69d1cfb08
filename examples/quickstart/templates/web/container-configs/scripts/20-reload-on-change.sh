#!/usr/bin/env bash
# Reload nginx whenever the managed site config changes, so a file deployed
# or updated after the scripts (policy replace) takes effect without a
# restart: a systemd path unit watches it and triggers a checked reload.
# Safe to re-run.
set -euo pipefail

changed=0

write_unit() { # write_unit <path>: stdin becomes the unit file if it differs
  local tmp
  tmp="$(mktemp)"
  cat > "$tmp"
  if cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
  else
    install -m 0644 "$tmp" "$1"
    rm -f "$tmp"
    changed=1
    log_info "Wrote $1"
  fi
}

write_unit /etc/systemd/system/nginx-site-reload.service <<'UNIT'
[Unit]
Description=Reload nginx after its site config changed
After=nginx.service

[Service]
Type=oneshot
ExecStartPre=/usr/sbin/nginx -t -q
ExecStart=/bin/systemctl reload-or-restart nginx.service
UNIT

write_unit /etc/systemd/system/nginx-site-reload.path <<'UNIT'
[Unit]
Description=Watch the nginx site config

[Path]
PathModified=/etc/nginx/conf.d/app.conf

[Install]
WantedBy=multi-user.target
UNIT

if [ "$changed" = 1 ]; then
  systemctl daemon-reload
fi
systemctl enable --now nginx-site-reload.path >/dev/null 2>&1
log_info "nginx reloads when /etc/nginx/conf.d/app.conf changes"

#!/usr/bin/env bash
# nginx as the site server: replace Debian's default site with ours (the site
# config, conf.d/app.conf, is deployed as a file after the scripts), create
# the web root and run nginx at boot. Safe to re-run.
set -euo pipefail

if ! is_installed nginx; then
  log_error "nginx is missing: the web bucket should have installed it"
  exit 1
fi

# Our site is the default server on port 80; Debian's would clash with it.
if [ -e /etc/nginx/sites-enabled/default ]; then
  rm -f /etc/nginx/sites-enabled/default
  log_info "Disabled the stock default site"
fi

install -d -m 0755 /var/www/app

systemctl enable nginx.service >/dev/null 2>&1
if ! systemctl is-active --quiet nginx.service; then
  systemctl start nginx.service
  log_info "Started nginx"
fi
systemctl reload nginx.service

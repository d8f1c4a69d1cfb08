#!/usr/bin/env bash
# Installs and enables a systemd service listening on TCP port 8080.
set -euo pipefail
mkdir -p /srv/e2e
echo "hello from e2e-web" > /srv/e2e/index.html
cat > /etc/systemd/system/e2e-web.service <<'UNIT'
[Unit]
Description=e2e test web server
After=network.target

[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --bind 0.0.0.0 --directory /srv/e2e

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now e2e-web.service
for _ in $(seq 1 100); do
  if ss -Htln | grep -q ':8080 '; then break; fi
  sleep 0.1
done
echo 30-service.sh >> /var/log/e2e-runs

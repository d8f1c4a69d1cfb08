#!/usr/bin/env bash
# Creates the user "dev" (the files step then drops a dotfile into its home)
# and leaves an old backup.conf for the "backup" policy to move aside.
set -euo pipefail
if id -u dev >/dev/null 2>&1; then
  log_info "user dev already exists"
else
  useradd -m -s /bin/bash dev
  log_info "created user dev"
fi
if [ ! -e /etc/e2e/backup.conf ]; then
  mkdir -p /etc/e2e
  echo "old version" > /etc/e2e/backup.conf
fi
echo 10-create-user.sh >> /var/log/e2e-runs

#!/usr/bin/env bash
# Base system: sudo, an en_US.UTF-8 locale and the UTC time zone.
# Safe to re-run: every step checks before it changes anything.
set -euo pipefail

log_info "Base setup on ${CONTAINER_OS:-unknown} ${CONTAINER_OS_VERSION:-}"

ensure_installed sudo
ensure_installed locales

if ! grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen; then
  sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
  locale-gen
  log_info "Generated the en_US.UTF-8 locale"
fi
if ! grep -qs '^LANG=en_US.UTF-8' /etc/default/locale; then
  update-locale LANG=en_US.UTF-8
  log_info "Default locale set to en_US.UTF-8"
fi

if [ "$(readlink -f /etc/localtime 2>/dev/null || true)" != /usr/share/zoneinfo/Etc/UTC ]; then
  ln -sf /usr/share/zoneinfo/Etc/UTC /etc/localtime
  echo Etc/UTC > /etc/timezone
  log_info "Time zone set to UTC"
fi

install -d -m 0750 /etc/sudoers.d

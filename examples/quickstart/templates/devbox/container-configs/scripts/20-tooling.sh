#!/usr/bin/env bash
# Developer tooling for the dev user: linters, a per-user npm prefix and an
# SSH key for git hosting. Runs after the packages (git, nodejs, npm from
# base.apt) are installed. Safe to re-run.
set -euo pipefail

# run_as_user runs commands as $CONTAINER_USER; be explicit about who that is.
CONTAINER_USER=dev
export CONTAINER_USER
DEV_HOME=/home/$CONTAINER_USER

ensure_installed shellcheck
ensure_installed direnv

if ! is_installed node || ! is_installed npm; then
  log_error "node/npm missing: the base bucket should have installed them"
  exit 1
fi

# npm -g as the dev user, without sudo.
if [ "$(run_as_user npm config get prefix)" != "$DEV_HOME/.npm-global" ]; then
  run_as_user mkdir -p "$DEV_HOME/.npm-global"
  run_as_user npm config set prefix "$DEV_HOME/.npm-global"
  log_info "npm global prefix for $CONTAINER_USER: $DEV_HOME/.npm-global"
fi

if [ ! -f "$DEV_HOME/.ssh/id_ed25519" ]; then
  run_as_user install -d -m 0700 "$DEV_HOME/.ssh"
  run_as_user ssh-keygen -q -t ed25519 -N '' -C "$CONTAINER_USER@$(hostname)" -f "$DEV_HOME/.ssh/id_ed25519"
  log_info "Generated an SSH key for $CONTAINER_USER"
fi
# Upserted, so re-running keeps one PUBLIC_KEY line.
save_credential dev-ssh PUBLIC_KEY "$(cat "$DEV_HOME/.ssh/id_ed25519.pub")"

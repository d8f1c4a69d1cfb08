#!/usr/bin/env bash
# Developer tooling for the dev user: linters and a per-user npm prefix.
# Runs after the packages (git, nodejs, npm from base.apt) are installed.
# Safe to re-run.
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

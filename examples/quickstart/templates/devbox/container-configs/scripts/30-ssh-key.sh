#!/usr/bin/env bash
# An SSH key of the dev user's own, for git hosting; its public half is
# kept as a credential (service "dev-ssh"). A script of its own because it
# saves a credential: a container cloned from a golden image of this
# template runs it again and gets a key nobody else has (the image's
# credentials are removed, so a missing credential means a new key).
# Safe to re-run.
set -euo pipefail

# run_as_user runs commands as $CONTAINER_USER; be explicit about who that is.
CONTAINER_USER=dev
export CONTAINER_USER
key=/home/$CONTAINER_USER/.ssh/id_ed25519

if [ ! -f "$key" ] || ! grep -qs '^PUBLIC_KEY=' /etc/lxctm/credentials/dev-ssh; then
  run_as_user install -d -m 0700 "/home/$CONTAINER_USER/.ssh"
  rm -f "$key" "$key.pub"
  run_as_user ssh-keygen -q -t ed25519 -N '' -C "$CONTAINER_USER@$(hostname)" -f "$key"
  log_info "Generated an SSH key for $CONTAINER_USER"
fi
# Upserted, so re-running keeps one PUBLIC_KEY line.
save_credential dev-ssh PUBLIC_KEY "$(cat "$key.pub")"

#!/usr/bin/env bash
# Creates the developer account "dev" with passwordless sudo and a console
# password kept as a credential. Safe to re-run.
set -euo pipefail

DEV_USER=dev
DEV_HOME=/home/$DEV_USER

if id -u "$DEV_USER" >/dev/null 2>&1; then
  log_info "User $DEV_USER already exists"
else
  useradd -m -s /bin/bash "$DEV_USER"
  log_info "Created user $DEV_USER"
  # useradd copied the stock /etc/skel/.bashrc. Remove it while it is still
  # untouched so the template's .bashrc (policy "default": written only when
  # the target is absent) is deployed; later edits by the user are kept.
  if cmp -s /etc/skel/.bashrc "$DEV_HOME/.bashrc"; then
    rm -f "$DEV_HOME/.bashrc"
  fi
fi

if ! id -nG "$DEV_USER" | tr ' ' '\n' | grep -qx sudo; then
  usermod -aG sudo "$DEV_USER"
  log_info "Added $DEV_USER to the sudo group"
fi

sudoers=/etc/sudoers.d/90-$DEV_USER
if [ ! -f "$sudoers" ]; then
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$DEV_USER" > "$sudoers.tmp"
  chmod 0440 "$sudoers.tmp"
  visudo -cqf "$sudoers.tmp"
  mv "$sudoers.tmp" "$sudoers"
  log_info "Granted $DEV_USER passwordless sudo"
fi

# A console password, generated once; terraform reads it from the
# container's credentials (service "dev-user").
if ! grep -qs '^PASSWORD=' /etc/lxctm/credentials/dev-user; then
  password="$(generate_password 20)"
  printf '%s:%s\n' "$DEV_USER" "$password" | chpasswd
  save_credential dev-user USERNAME "$DEV_USER"
  save_credential dev-user PASSWORD "$password"
  log_info "Set a password for $DEV_USER (credential dev-user)"
fi

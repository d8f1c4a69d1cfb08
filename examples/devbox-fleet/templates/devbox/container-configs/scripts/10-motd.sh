#!/usr/bin/env bash
# Greets whoever logs in with the container's name.
set -euo pipefail
printf 'Welcome to %s, a developer box managed by Terraform.\n' "$(hostname)" > /etc/motd

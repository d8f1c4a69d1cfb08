#!/usr/bin/env bash
# Fails with exit status 3 after some output, like a migration that cannot
# reach its database. It leaves a marker: a replaced container has none.
set -uo pipefail
touch /root/failed-once
for i in $(seq 1 45); do echo "migrating step $i"; done
log_warn "database unreachable, giving up"
echo "fatal: connection refused" >&2
exit 3

#!/usr/bin/env bash
# Applies a Terraform root module against the provider's built-in Proxmox VE
# simulator, checks that a second plan has nothing to do, and destroys it
# again: a pipeline's test of infrastructure code, without a Proxmox VE.
#
#   simulate-apply.sh [DIR]    DIR: the root module (default: the current directory)
#
# Needs terraform (1.11 or later) and jq. Extra simulate flags can come from
# PVE_SIMULATE_FLAGS (e.g. "--nodes pve,pve2", or "--backend lxc" for real
# containers, as root on Linux). PVE_SIMULATE_PROVISION=1 also hands the
# node's SSH access to the configuration (TF_VAR_ssh_node, TF_VAR_ssh_password,
# as the examples name those variables), so templates are provisioned: that
# needs --backend lxc.
set -euo pipefail
cd "${1:-.}"

terraform init -input=false -no-color

# terraform init installed the provider; the same binary is the simulator.
bins=(.terraform/providers/registry.terraform.io/lxctm/pve/*/*/terraform-provider-pve*)
sim_bin=${bins[0]}
if [ ! -x "$sim_bin" ]; then
	echo "terraform init installed no lxctm/pve provider under .terraform/providers" >&2
	exit 1
fi
work=$(mktemp -d)
# The state directory must be searchable: the lxc backend's unprivileged
# containers enter it as another user.
state=$(mktemp -d)
chmod 755 "$state"
# shellcheck disable=SC2086 # PVE_SIMULATE_FLAGS is a list of flags
"$sim_bin" simulate --listen 127.0.0.1:0 --ssh-listen 127.0.0.1:0 --state-dir "$state" \
	${PVE_SIMULATE_FLAGS:-} >"$work/ready.json" 2>"$work/simulator.log" &
sim_pid=$!
cleanup() {
	kill "$sim_pid" 2>/dev/null || true
	wait "$sim_pid" 2>/dev/null || true
	rm -rf "$work" "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # a cancelled pipeline stops the simulator too

# The simulator prints one JSON line once it serves; wait up to 30 s. (The
# line is complete once jq reads an endpoint from it; an empty file is no
# answer, which jq 1.6 would not report as a failure.)
ready="$work/ready.json"
PVE_ENDPOINT=""
for _ in $(seq 300); do
	PVE_ENDPOINT=$(jq -r '.endpoint // empty' "$ready" 2>/dev/null || true)
	[ -n "$PVE_ENDPOINT" ] && break
	if ! kill -0 "$sim_pid" 2>/dev/null; then
		echo "the simulator exited before it was ready:" >&2
		cat "$work/simulator.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$PVE_ENDPOINT" ]; then
	echo "the simulator did not become ready in 30 s:" >&2
	cat "$work/simulator.log" >&2
	exit 1
fi
PVE_API_TOKEN=$(jq -r .api_token "$ready")
PVE_TLS_FINGERPRINT=$(jq -r .tls_fingerprint "$ready")
export PVE_ENDPOINT PVE_API_TOKEN PVE_TLS_FINGERPRINT
if [ "${PVE_SIMULATE_PROVISION:-}" = 1 ]; then
	TF_VAR_ssh_node=$(jq -c '.nodes[0] | {host: .ssh_host, port: .ssh_port, host_key: .ssh_host_key}' "$ready")
	TF_VAR_ssh_password=$(jq -r .password "$ready")
	export TF_VAR_ssh_node TF_VAR_ssh_password
fi

terraform apply -input=false -auto-approve -no-color
# -detailed-exitcode: 0 = nothing to change, 2 = changes left (fails the script).
terraform plan -input=false -detailed-exitcode -no-color
terraform output -no-color -json
terraform destroy -input=false -auto-approve -no-color

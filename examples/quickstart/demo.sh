#!/usr/bin/env bash
# The quickstart on the built-in Proxmox VE simulator, in one command.
#
#   demo.sh up      build the provider, start the simulator (kept running in
#                   the background, state under the cache dir), apply main.tf
#   demo.sh check   plan again: fails unless the plan shows no changes
#   demo.sh down    destroy what the demo created and stop the simulator
#
# Running `up` twice is fine: the second apply has nothing to change.
# PVE_DEMO_CLI picks the CLI (a terraform or tofu binary); by default the
# one .ci/find-terraform finds.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${TF_PROVIDER_PVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/terraform-provider-pve}"
demo="$cache/demo"
bin="$demo/bin"
simdir="$demo/simulator"
if [ "$(id -u)" = 0 ]; then
	# LXC maps unprivileged containers to other uids, which must be able to
	# reach the container directories: root's home is not searchable.
	simdir="/var/lib/terraform-provider-pve/demo-simulator"
fi
ready="$demo/simulator.json"
pidfile="$demo/simulator.pid"
tfrc="$demo/dev.tfrc"

export CHECKPOINT_DISABLE=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

sim_running() {
	[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

json_field() { # json_field FILE KEY -> the string or number value of a top-level key
	sed -n "s/.*\"$2\":\"\{0,1\}\([^\",]*\)\"\{0,1\}[,}].*/\1/p" "$1" | head -n 1
}

build() {
	say "building the provider"
	mkdir -p "$bin"
	(cd "$repo" && go build -trimpath -ldflags "-X main.version=demo" -o "$bin/terraform-provider-pve" .)
	# dev_overrides: the CLI uses the binary just built, no registry, no init
	# (one entry for Terraform's default registry, one for OpenTofu's).
	cat >"$tfrc" <<EOF
provider_installation {
  dev_overrides {
    "registry.terraform.io/lxctm/pve"  = "$bin"
    "registry.opentofu.org/lxctm/pve" = "$bin"
  }
  direct {}
}
EOF
}

# backend picks what runs the containers: real LXC containers when this
# machine can (root on Linux with apt to install Debian's lxc), else the
# memory backend, which serves the API only.
backend() {
	if [ -n "${PVE_DEMO_BACKEND:-}" ]; then
		echo "$PVE_DEMO_BACKEND"
	elif [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null 2>&1; then
		echo lxc
	else
		echo memory
	fi
}

ensure_lxc_packages() {
	local missing="" tool
	for tool in lxc-start:lxc mmdebstrap:mmdebstrap zstd:zstd nft:nftables; do
		command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool##*:}"
	done
	[ -z "$missing" ] && return 0
	say "installing$missing (for real LXC containers)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

start_sim() {
	if sim_running && [ -s "$ready" ]; then
		say "simulator already running (pid $(cat "$pidfile"), backend $(cat "$demo/backend" 2>/dev/null))"
		return
	fi
	local be
	be="$(backend)"
	if [ "$be" = lxc ] && ! ensure_lxc_packages; then
		echo "    could not install LXC; falling back to the API-only memory backend"
		be=memory
	fi
	if ! launch_sim "$be" && [ "$be" = lxc ]; then
		echo "    the lxc backend did not start (see $demo/simulator.log); falling back to the API-only memory backend"
		be=memory
		launch_sim "$be" || { cat "$demo/simulator.log" >&2; exit 1; }
	fi
	echo "$be" >"$demo/backend"
	if [ "$be" = memory ]; then
		echo "    API only: the memory backend runs no real containers, so nothing is provisioned inside them."
		echo "    (Run as root on Linux for real LXC containers, provisioned over SSH.)"
	fi
}

# launch_sim starts the simulator with a backend and waits for its ready line.
launch_sim() {
	local be="$1" extra=()
	say "starting the simulator (backend: $be, state: $simdir)"
	if [ "$be" = lxc ]; then
		# The demo's containers install packages from the machine's mirrors.
		extra=(--egress)
		echo "    the first run builds a Debian image for the containers (a few minutes, cached)"
	fi
	mkdir -p "$simdir"
	# Every directory above the state directory must be searchable by the
	# unprivileged containers' root (uid 100000); another run may have made
	# the parent 0750.
	chmod 755 "$simdir"
	chmod o+x "$(dirname "$simdir")"
	rm -f "$ready"
	setsid "$bin/terraform-provider-pve" simulate --listen 127.0.0.1:0 --ssh-listen 127.0.0.1:0 \
		--backend "$be" "${extra[@]}" --state-dir "$simdir" >"$ready" 2>"$demo/simulator.log" </dev/null &
	echo $! >"$pidfile"
	for _ in $(seq 1 3000); do
		[ -s "$ready" ] && return 0
		sim_running || return 1
		sleep 0.2
	done
	echo "the simulator did not become ready; its log is $demo/simulator.log" >&2
	exit 1
}

sim_env() {
	export PVE_ENDPOINT PVE_API_TOKEN PVE_CA_CERT
	PVE_ENDPOINT="$(json_field "$ready" endpoint)"
	PVE_API_TOKEN="$(json_field "$ready" api_token)"
	PVE_CA_CERT="$(json_field "$ready" ca_cert_file)"
	unset PVE_USERNAME PVE_PASSWORD PVE_AUTH_TICKET PVE_CSRF_PREVENTION_TOKEN PVE_TLS_FINGERPRINT PVE_INSECURE
	export TF_CLI_CONFIG_FILE="$tfrc"
	unset TF_VAR_ssh_node TF_VAR_ssh_password
	if [ "$(cat "$demo/backend" 2>/dev/null)" = lxc ]; then
		export TF_VAR_ssh_node TF_VAR_ssh_password
		TF_VAR_ssh_node="{\"host\":\"$(json_field "$ready" ssh_host)\",\"port\":$(json_field "$ready" ssh_port),\"host_key\":\"$(json_field "$ready" ssh_host_key)\"}"
		TF_VAR_ssh_password="$(json_field "$ready" password)"
	fi
}

terraform_bin() {
	if [ -n "${PVE_DEMO_CLI:-}" ]; then
		echo "$PVE_DEMO_CLI"
	else
		"$repo/.ci/find-terraform"
	fi
}

up() {
	build
	start_sim
	sim_env
	local tf
	tf="$(terraform_bin)"
	say "terraform apply in examples/quickstart"
	(cd "$here" && "$tf" apply -auto-approve -input=false)
	cat <<EOF

The simulator keeps running in the background:
  endpoint  $PVE_ENDPOINT
  api token $PVE_API_TOKEN
  CA cert   $PVE_CA_CERT
  password  root@pam / $(json_field "$ready" password)
  log       $demo/simulator.log

Look around:
  curl --cacert $PVE_CA_CERT -H "Authorization: PVEAPIToken=$PVE_API_TOKEN" $PVE_ENDPOINT/api2/json/cluster/resources

Run 'make demo' again (nothing to change), or 'make demo-destroy' to remove everything.
EOF
}

check() {
	sim_running && [ -s "$ready" ] || { echo "the demo is not running: run make demo first" >&2; exit 1; }
	sim_env
	local tf rc=0
	tf="$(terraform_bin)"
	say "terraform plan in examples/quickstart: nothing may change"
	(cd "$here" && "$tf" plan -detailed-exitcode -input=false) || rc=$?
	case "$rc" in
	0) say "no changes" ;;
	2) echo "the plan after make demo shows changes" >&2; exit 1 ;;
	*) exit "$rc" ;;
	esac
}

down() {
	if [ ! -f "$here/terraform.tfstate" ] && ! sim_running; then
		say "nothing to destroy"
		rm -rf "$demo" "$simdir"
		return
	fi
	build
	start_sim
	sim_env
	local tf
	tf="$(terraform_bin)"
	say "terraform destroy in examples/quickstart"
	(cd "$here" && "$tf" destroy -auto-approve -input=false)
	say "stopping the simulator"
	if sim_running; then
		kill -TERM "$(cat "$pidfile")"
		for _ in $(seq 1 100); do sim_running || break; sleep 0.1; done
	fi
	rm -rf "$demo" "$simdir" "$here/terraform.tfstate" "$here/terraform.tfstate.backup"
}

case "${1:-up}" in
up) up ;;
check) check ;;
down) down ;;
*) echo "usage: $0 up|check|down" >&2; exit 2 ;;
esac

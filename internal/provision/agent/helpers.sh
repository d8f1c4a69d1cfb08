# shellcheck shell=sh
# lxctm script helpers: sourced before every template script (and by the
# provisioning agent itself). Names and meaning follow the reference
# system's helpers, so existing template scripts run unchanged.
#
# POSIX sh, and safe to source into scripts running under
# `set -euo pipefail`: every command that may fail in normal operation is
# guarded, no pipeline ends early, and helper variables are prefixed with
# _lxctm_ so they never clobber a script's own.

_lxctm_nl='
'

# log_info/log_warn/log_error MSG...: "[YYYY-MM-DD HH:MM:SS] [LEVEL  ] msg"
# on stderr, so command substitutions in scripts stay clean.
log_info() { _lxctm_log INFO "$*"; }
log_warn() { _lxctm_log WARN "$*"; }
log_error() { _lxctm_log ERROR "$*"; }
_lxctm_log() {
	printf '[%s] [%-7s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "$2" >&2
}

# is_installed CMD: true when CMD is on PATH.
is_installed() {
	command -v "${1:-}" >/dev/null 2>&1
}

# _lxctm_apt_locked: true while a process holds one of apt's or dpkg's locks.
_lxctm_apt_locked() {
	for _lxctm_lf in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock; do
		[ -e "$_lxctm_lf" ] || continue
		if command -v fuser >/dev/null 2>&1; then
			if fuser "$_lxctm_lf" >/dev/null 2>&1; then return 0; fi
		else
			_lxctm_fds=$(ls -l /proc/[0-9]*/fd 2>/dev/null || :)
			case "$_lxctm_fds$_lxctm_nl" in
			*" -> $_lxctm_lf$_lxctm_nl"*) return 0 ;;
			esac
		fi
	done
	return 1
}

# wait_for_apt_lock [SECONDS]: waits (default 120 s) until no process holds
# apt's or dpkg's locks; fails when they are still held.
wait_for_apt_lock() {
	_lxctm_max=${1:-120}
	_lxctm_waited=0
	while _lxctm_apt_locked; do
		if [ "$_lxctm_waited" -ge "$_lxctm_max" ]; then
			log_error "The apt/dpkg lock is still held after ${_lxctm_max}s"
			return 1
		fi
		if [ "$_lxctm_waited" -eq 0 ]; then log_info "Waiting for the apt/dpkg lock"; fi
		sleep 2
		_lxctm_waited=$((_lxctm_waited + 2))
	done
	return 0
}

# _lxctm_apt_update_once: `apt-get update` once per provisioning run (the
# agent's package step and every script share the marker in
# LXCTM_RUN_DIR); without a run directory it updates every time.
_lxctm_apt_update_once() {
	if [ -n "${LXCTM_RUN_DIR:-}" ] && [ -e "$LXCTM_RUN_DIR/apt-updated" ]; then return 0; fi
	wait_for_apt_lock 120 || return 1
	log_info "Refreshing the apt package index"
	if ! apt-get update -q -o DPkg::Lock::Timeout=120 >&2; then
		log_error "apt-get update failed"
		return 1
	fi
	if [ -n "${LXCTM_RUN_DIR:-}" ]; then : >"$LXCTM_RUN_DIR/apt-updated" || :; fi
	return 0
}

# _lxctm_pkg_installed PKG: true when the package manager reports PKG
# installed.
_lxctm_pkg_installed() {
	case ${_PKG_MGR:-unknown} in
	apt)
		case $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || :) in
		ii*) return 0 ;;
		esac
		;;
	apk) if apk info -e "$1" >/dev/null 2>&1; then return 0; fi ;;
	dnf) if rpm -q "$1" >/dev/null 2>&1; then return 0; fi ;;
	esac
	return 1
}

# ensure_installed PKG...: installs each package that is neither a command
# on PATH nor an installed package, with the container's package manager
# (apt waits for its lock and refreshes its index once per run).
ensure_installed() {
	for _lxctm_pkg in "$@"; do
		case $_lxctm_pkg in
		'' | -*)
			log_error "ensure_installed: invalid package name '$_lxctm_pkg'"
			return 1
			;;
		esac
		if command -v "$_lxctm_pkg" >/dev/null 2>&1 || _lxctm_pkg_installed "$_lxctm_pkg"; then
			log_info "$_lxctm_pkg is already installed"
			continue
		fi
		log_info "Installing $_lxctm_pkg"
		case ${_PKG_MGR:-unknown} in
		apt)
			wait_for_apt_lock 120 || return 1
			_lxctm_apt_update_once || return 1
			if ! apt-get install -y -q -o DPkg::Lock::Timeout=120 \
				-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
				"$_lxctm_pkg" >&2; then
				log_error "Failed to install $_lxctm_pkg with apt-get"
				return 1
			fi
			;;
		apk)
			if ! apk add -q "$_lxctm_pkg" >&2; then
				log_error "Failed to install $_lxctm_pkg with apk"
				return 1
			fi
			;;
		dnf)
			if command -v dnf >/dev/null 2>&1; then _lxctm_dnf=dnf; else _lxctm_dnf=yum; fi
			if ! "$_lxctm_dnf" install -y -q "$_lxctm_pkg" >&2; then
				log_error "Failed to install $_lxctm_pkg with $_lxctm_dnf"
				return 1
			fi
			;;
		*)
			log_error "ensure_installed: no supported package manager (apt, apk, dnf) to install $_lxctm_pkg"
			return 1
			;;
		esac
		log_info "Installed $_lxctm_pkg"
	done
	return 0
}

# _lxctm_passwd USER: sets _lxctm_pw_home and _lxctm_pw_shell from
# /etc/passwd; fails for an unknown user.
_lxctm_passwd() {
	_lxctm_pw_home='' _lxctm_pw_shell=''
	while IFS=: read -r _lxctm_n _lxctm_x _lxctm_u _lxctm_g _lxctm_c _lxctm_h _lxctm_s; do
		if [ "$_lxctm_n" = "$1" ]; then
			_lxctm_pw_home=$_lxctm_h _lxctm_pw_shell=$_lxctm_s
			return 0
		fi
	done </etc/passwd
	return 1
}

# _lxctm_quote WORD: sets _lxctm_q to WORD quoted for sh.
_lxctm_quote() {
	_lxctm_rest=$1 _lxctm_q=
	while :; do
		case $_lxctm_rest in
		*"'"*)
			_lxctm_q=$_lxctm_q${_lxctm_rest%%"'"*}"'\\''"
			_lxctm_rest=${_lxctm_rest#*"'"}
			;;
		*) break ;;
		esac
	done
	_lxctm_q="'$_lxctm_q$_lxctm_rest'"
}

# run_as_user CMD [ARG...]: runs a command as $CONTAINER_USER with a
# login-like environment (HOME, USER, LOGNAME, SHELL, a standard PATH with
# ~/.local/bin; EXTENSIONS_GALLERY passed through), in the current
# directory when that user may enter it, else in their home.
run_as_user() {
	if [ -z "${CONTAINER_USER:-}" ]; then
		log_error "run_as_user: CONTAINER_USER is not set (no regular user in /etc/passwd)"
		return 1
	fi
	if [ $# -eq 0 ]; then
		log_error "run_as_user: no command given"
		return 1
	fi
	if ! _lxctm_passwd "$CONTAINER_USER"; then
		log_error "run_as_user: user $CONTAINER_USER does not exist"
		return 1
	fi
	# shellcheck disable=SC2016 # the inner shell expands its own "$1" and "$@"
	set -- /bin/sh -c 'cd "$1" 2>/dev/null || cd "$HOME" 2>/dev/null || cd /; shift; exec "$@"' lxctm-run-as-user "$PWD" "$@"
	if [ -n "${EXTENSIONS_GALLERY+set}" ]; then set -- "EXTENSIONS_GALLERY=$EXTENSIONS_GALLERY" "$@"; fi
	set -- env -i "HOME=$_lxctm_pw_home" "USER=$CONTAINER_USER" "LOGNAME=$CONTAINER_USER" \
		"SHELL=${_lxctm_pw_shell:-/bin/sh}" "LANG=${LANG:-C.UTF-8}" \
		"PATH=$_lxctm_pw_home/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
	if command -v runuser >/dev/null 2>&1; then
		runuser -u "$CONTAINER_USER" -- "$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -u "$CONTAINER_USER" -- "$@"
	else
		_lxctm_cmd=
		for _lxctm_arg in "$@"; do
			_lxctm_quote "$_lxctm_arg"
			_lxctm_cmd="$_lxctm_cmd $_lxctm_q"
		done
		su -s /bin/sh -c "$_lxctm_cmd" "$CONTAINER_USER"
	fi
}

# generate_password [LENGTH]: prints LENGTH (default 16) random [A-Za-z0-9]
# characters.
generate_password() {
	_lxctm_len=${1:-16}
	case $_lxctm_len in
	'' | *[!0-9]* | 0)
		log_error "generate_password: the length must be a positive number"
		return 1
		;;
	esac
	_lxctm_pw=
	while [ "${#_lxctm_pw}" -lt "$_lxctm_len" ]; do
		_lxctm_pw=$_lxctm_pw$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
	done
	printf '%s\n' "$_lxctm_pw" | cut -c "1-$_lxctm_len"
}

# save_credential SERVICE KEY VALUE: upserts KEY=VALUE in
# /etc/lxctm/credentials/SERVICE (directory 0700, file 0600), where the
# provider's discovery reads it. The value is never logged. During a
# provisioning run it also marks the running step as one that saves
# credentials (in LXCTM_RUN_DIR), which the agent reports.
# (LXCTM_CREDENTIALS_DIR moves the directory; tests use it.)
save_credential() {
	if [ $# -ne 3 ]; then
		log_error "usage: save_credential <service> <KEY> <VALUE>"
		return 1
	fi
	case $1 in
	'' | .* | *[!A-Za-z0-9_.@-]*)
		log_error "save_credential: invalid service name '$1' (letters, digits, _ . @ - only)"
		return 1
		;;
	esac
	case $2 in
	'' | [0-9]* | *[!A-Za-z0-9_]*)
		log_error "save_credential: invalid key '$2' for $1 (letters, digits and _; not starting with a digit)"
		return 1
		;;
	esac
	case $3 in
	*"$_lxctm_nl"*)
		log_error "save_credential: the value of $1/$2 contains a newline, which a KEY=VALUE file cannot hold"
		return 1
		;;
	esac
	_lxctm_cdir=${LXCTM_CREDENTIALS_DIR:-/etc/lxctm/credentials}
	if ! mkdir -p "$_lxctm_cdir" || ! chmod 0700 "$_lxctm_cdir"; then
		log_error "save_credential: cannot create $_lxctm_cdir"
		return 1
	fi
	if ! _lxctm_tmp=$(mktemp "$_lxctm_cdir/.$1.XXXXXX"); then
		log_error "save_credential: cannot write in $_lxctm_cdir"
		return 1
	fi
	if [ -f "$_lxctm_cdir/$1" ]; then grep -v "^$2=" "$_lxctm_cdir/$1" >"$_lxctm_tmp" || :; fi
	if printf '%s=%s\n' "$2" "$3" >>"$_lxctm_tmp" && chmod 0600 "$_lxctm_tmp" && mv -f "$_lxctm_tmp" "$_lxctm_cdir/$1"; then
		log_info "Saved credential $2 for $1"
		# Tell the agent that the running step saved a credential: a golden
		# image runs such steps again on each clone, so no two share a secret.
		if [ -n "${LXCTM_RUN_DIR:-}" ]; then printf '%s\n' "$1" >>"$LXCTM_RUN_DIR/credentials-saved" 2>/dev/null || :; fi
		return 0
	fi
	rm -f "$_lxctm_tmp" || :
	log_error "save_credential: cannot write $_lxctm_cdir/$1"
	return 1
}

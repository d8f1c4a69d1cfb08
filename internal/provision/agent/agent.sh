# shellcheck shell=sh disable=SC2016,SC1003,SC1007,SC2015,SC2059,SC2209,SC2254,SC2317
# lxctm-agent: applies a template's packages, scripts and files inside a
# container (or checks them for drift) in one `pct exec`. POSIX sh.
#
# stdin:  "LXCTM-AGENT <protocol> <n>" NL, an <n>-byte one-line JSON manifest
#         (for humans; the agent only checks its length) NL, then a tar with
#         meta/*, steps (one tab-separated line per step), helpers.sh,
#         esc.sed and the payloads p/<i>, s/<i>/<name>, f/<i>.
# stdout: JSON lines that start with "{" (agent, step, observe, service,
#         credential, fatal, done) and progress lines "[<step>] <text>".
# exit:   0 all steps fine, 1 a step failed, 2 the agent could not start.

set -u
umask 022
LC_ALL=C
export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
unset ENV BASH_ENV CDPATH || :

_a_protocol=1
_a_tab=$(printf '\t')
_a_work=
_a_esc=
_a_seq=0
_a_events=
_a_agent_pid=$$

# ---------------------------------------------------------------- JSON out

# _a_repl STR FROM TO: sets _a_r to STR with every FROM replaced by TO.
_a_repl() {
	_a_s=$1 _a_r=
	while :; do
		case $_a_s in
		*"$2"*)
			_a_r=$_a_r${_a_s%%"$2"*}$3
			_a_s=${_a_s#*"$2"}
			;;
		*)
			_a_r=$_a_r$_a_s
			return 0
			;;
		esac
	done
}

# _a_q TEXT: sets _a_r to TEXT escaped for a JSON string. Printable ASCII is
# escaped in the shell; anything else goes through the generated sed script
# (esc.sed from the payload: control characters become \u00XX; other
# bytes pass unchanged, and the reader replaces invalid UTF-8). Newlines
# become spaces.
_a_q() {
	case $1 in
	*[![:print:]]*)
		if [ -n "$_a_esc" ]; then
			_a_r=$(printf '%s' "$1" | tr '\n' ' ' | sed -f "$_a_esc")
		else
			_a_r=$(printf '%s' "$1" | tr '\n' ' ' | tr -c '[:print:]' '?')
			_a_repl "$_a_r" '\' '\\'
			_a_repl "$_a_r" '"' '\"'
		fi
		;;
	*)
		_a_repl "$1" '\' '\\'
		_a_repl "$_a_r" '"' '\"'
		;;
	esac
}

_a_fatal() {
	_a_q "$1"
	printf '{"fatal":"%s"}\n' "$_a_r"
	exit 2
}

# ------------------------------------------------------------ step output

# A step's output (the agent's notes and its commands' output) goes to the
# step log; it is streamed as progress lines while the step runs, and its
# last 40 lines become the result's output_tail.

_a_step_begin() { # KEY
	_a_key=$1
	_a_seq=$((_a_seq + 1))
	_a_log=$_a_work/log.$_a_seq
	: >"$_a_log"
	exec 8<"$_a_log"
	_a_buf=
	_a_line=
}

# _a_drain: prints the step log's complete new lines as progress.
_a_drain() {
	while IFS= read -r _a_line <&8; do
		printf '[%s] %s\n' "$_a_key" "$_a_buf$_a_line"
		_a_buf=
	done
	_a_buf=$_a_buf$_a_line
	_a_line=
}

_a_step_end() {
	_a_drain
	if [ -n "$_a_buf" ]; then printf '[%s] %s\n' "$_a_key" "$_a_buf"; fi
	_a_buf=
	exec 8<&-
}

# _a_note TEXT: a line of the agent's own in the step log.
_a_note() {
	printf '%s\n' "$1" >>"$_a_log"
	_a_drain
}

# _a_run CMD [ARG...]: runs CMD (a command or function) with its output in
# the step log and stdin from /dev/null, streaming the log while it runs;
# returns CMD's exit status. The output goes to a file rather than a pipe,
# so a daemon a script leaves behind cannot hold the agent's stdout open.
# The agent sleeps on a FIFO: CMD's exit status wakes it at once, and a
# ticker wakes it every 0.2 s to stream the log.
_a_run() {
	[ -n "$_a_events" ] || _a_start_events
	(
		"$@" >>"$_a_log" 2>&1 </dev/null 5>&- 6<&- 7<&- 8<&- 9<&-
		echo "rc $?" >&5
	) &
	_a_pid=$!
	_a_status=
	while IFS= read -r _a_ev <&5; do
		case $_a_ev in
		"rc "*)
			_a_status=${_a_ev#rc }
			break
			;;
		esac
		_a_drain
		# A subshell killed before it could report (e.g. by the OOM killer) is
		# a zombie without an "rc" line. One that reported and exited is a
		# zombie too, its "rc" still queued behind ticks: queue a marker and
		# read up to it, so an "rc" written before it is not missed (nor left
		# behind for the next command).
		# (A shell that reaps children by itself, like bash, makes it vanish.)
		if [ -d /proc/self ]; then
			_a_st=gone
			if [ -r "/proc/$_a_pid/stat" ]; then
				read -r _a_x _a_y _a_st _a_z <"/proc/$_a_pid/stat" || _a_st=gone
			fi
			case $_a_st in
			Z | gone)
				echo "zz $_a_pid" >&5
				while IFS= read -r _a_ev <&5; do
					case $_a_ev in
					"rc "*) _a_status=${_a_ev#rc } ;;
					"zz $_a_pid") break ;;
					esac
				done
				[ -n "$_a_status" ] || _a_status=137
				break
				;;
			esac
		fi
	done
	wait "$_a_pid" || :
	_a_drain
	[ -n "$_a_status" ] || _a_status=1
	return "$_a_status"
}

# _a_start_events: the FIFO _a_run sleeps on, and its ticker (which stops
# when the agent is gone).
_a_start_events() {
	_a_events=$_a_work/events
	mkfifo -m 0600 "$_a_events" || _a_fatal "cannot create a FIFO in $_a_work"
	exec 5<>"$_a_events"
	(
		exec 6<&- 7<&- 8<&- 9<&-
		while kill -0 "$_a_agent_pid" 2>/dev/null; do
			sleep 0.2 2>/dev/null || sleep 1
			echo tick
		done >&5
	) </dev/null >/dev/null 2>&1 &
	_a_ticker=$!
}

# _a_tail LOG: sets _a_tailjson to the last 40 lines of LOG as JSON strings.
_a_tail() {
	_a_tailjson=
	if [ -s "$1" ]; then
		_a_tailjson=$(tail -n 40 "$1" | tr -d '\000' | cut -c 1-2000 | sed -f "$_a_esc" | sed -e 's/^/"/' -e 's/$/"/' | tr '\n' ',')
		_a_tailjson=${_a_tailjson%,}
	fi
}

# _a_result STATUS EXIT SHA256 MESSAGE: ends the current step and prints
# its result line.
_a_result() {
	_a_step_end
	if [ "$1" = failed ] || [ "$1" = skipped ]; then _a_tail "$_a_log"; else _a_tailjson=; fi
	if [ "$1" = failed ] && [ -z "$_a_failed" ]; then _a_failed=$_a_key; fi
	_a_q "$_a_key"
	_a_k=$_a_r
	_a_q "$4"
	printf '{"step":"%s","kind":"%s","status":"%s","exit":%d,"output_tail":[%s],"sha256":"%s","message":"%s"}\n' \
		"$_a_k" "$_a_kind" "$1" "$2" "$_a_tailjson" "$3" "$_a_r"
	rm -f "$_a_log"
}

# _a_observe KEY VALUE: a check-mode observation.
_a_observe() {
	_a_q "$1"
	_a_k=$_a_r
	_a_q "$2"
	printf '{"observe":"%s","sha256":"%s"}\n' "$_a_k" "$_a_r"
}

# ------------------------------------------------------------ environment

_a_setup_env() {
	_a_osr=
	if [ -r /etc/os-release ]; then
		_a_osr=$(
			. /etc/os-release >/dev/null 2>&1 || :
			printf '%s|%s|%s' "${ID:-}" "${ID_LIKE:-}" "${VERSION_ID:-}"
		)
	fi
	_a_id=${_a_osr%%|*}
	_a_like=${_a_osr#*|}
	_a_like=${_a_like%%|*}
	CONTAINER_OS_VERSION=${_a_osr##*|}
	# Normalised as the reference system did: Debian derivatives are
	# "debian", RHEL/Fedora derivatives "fedora".
	case " $_a_id $_a_like " in
	*" debian "*) CONTAINER_OS=debian ;;
	*" fedora "* | *" rhel "*) CONTAINER_OS=fedora ;;
	*) CONTAINER_OS=$_a_id ;;
	esac
	if command -v apt-get >/dev/null 2>&1; then
		_PKG_MGR=apt
	elif command -v apk >/dev/null 2>&1; then
		_PKG_MGR=apk
	elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
		_PKG_MGR=dnf
	else
		_PKG_MGR=unknown
	fi
	_a_root_home=/root
	while IFS=: read -r _a_n _a_x _a_u _a_g _a_c _a_h _a_s; do
		if [ "$_a_u" = 0 ]; then
			_a_root_home=$_a_h
			break
		fi
	done </etc/passwd
	HOME=${_a_root_home:-/root}
	DEBIAN_FRONTEND=noninteractive
	LXCTM_RUN_DIR=$_a_work
	export HOME DEBIAN_FRONTEND CONTAINER_OS CONTAINER_OS_VERSION _PKG_MGR LXCTM_RUN_DIR
	export TEMPLATE_NAME CONTAINER_HOSTNAME
	_a_detect_user
}

# _a_detect_user: CONTAINER_USER is the first passwd entry with a uid in
# 1000..65533 and a login shell (scripts create users, so this runs again
# before every script).
_a_detect_user() {
	CONTAINER_USER=
	while IFS=: read -r _a_n _a_x _a_u _a_g _a_c _a_h _a_s; do
		case $_a_u in '' | *[!0-9]*) continue ;; esac
		[ "$_a_u" -ge 1000 ] && [ "$_a_u" -le 65533 ] || continue
		case $_a_s in '' | */nologin | */false | */sync) continue ;; esac
		CONTAINER_USER=$_a_n
		break
	done </etc/passwd
	export CONTAINER_USER
}

# --------------------------------------------------------------- packages

# Package rows (p/<i>): "spec<TAB>name<TAB>version" per line; custom
# buckets: "name<TAB>timeout" per line n, with p/<i>.<n>.check and
# p/<i>.<n>.install.

# _a_installed MANAGER SPEC NAME VERSION: true when installed as asked.
_a_installed() {
	case $1 in
	apt)
		_a_st=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}\n' "$3" 2>/dev/null) || _a_st=
		case $_a_st in
		ii*)
			[ "$4" = - ] && return 0
			case ${_a_st#*|} in $4) return 0 ;; esac
			return 1
			;;
		esac
		# A virtual package (awk, mail-transport-agent) is installed when an
		# installed package provides it.
		[ "$4" = - ] || return 1
		_a_re=$(printf '%s' "${3%%:*}" | sed 's/[.+]/\\&/g')
		dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null | grep -q -E "^ii +(.*[ ,])?$_a_re([ ,(]|\$)"
		;;
	apk) apk info -e "${3%%@*}" >/dev/null 2>&1 ;;
	dnf) rpm -q "$2" >/dev/null 2>&1 || rpm -q --whatprovides "$2" >/dev/null 2>&1 ;;
	npm)
		[ -f "$_a_npm_root/$3/package.json" ] || return 1
		case $4 in
		- | *[!0-9A-Za-z.+-]*) return 0 ;;
		[0-9]*.*.*)
			_a_v=$(sed -n 's/^ *"version" *: *"\([^"]*\)".*/\1/p' "$_a_npm_root/$3/package.json")
			case "$_a_nl$_a_v$_a_nl" in *"$_a_nl$4$_a_nl"*) return 0 ;; esac
			return 1
			;;
		esac
		return 0
		;;
	pip)
		_a_re=$(printf '%s' "$3" | sed 's/[-_.]/[-_.]/g')
		_a_v=$(grep -i -e "^$_a_re==" "$_a_pip_list") || return 1
		case $4 in
		==*)
			case ${4#==} in *[!0-9A-Za-z.+!_-]*) return 0 ;; esac
			case "$_a_nl$_a_v$_a_nl" in *"==${4#==}$_a_nl"*) return 0 ;; esac
			return 1
			;;
		esac
		return 0
		;;
	esac
}

_a_nl='
'

# _a_pkg_prepare MANAGER: per-manager state the checks need; fails (with
# _a_why set) when the manager's tools are missing.
_a_pkg_prepare() {
	_a_why=
	case $1 in
	apt) _a_need apt-get dpkg-query ;;
	apk) _a_need apk ;;
	dnf)
		_a_need rpm || return 1
		if command -v dnf >/dev/null 2>&1; then
			_a_dnf=dnf
		elif command -v yum >/dev/null 2>&1; then
			_a_dnf=yum
		else
			_a_why="neither dnf nor yum is installed in this container"
			return 1
		fi
		;;
	npm)
		_a_need npm || return 1
		_a_npm_root=$(npm root -g 2>/dev/null) || _a_npm_root=/nonexistent
		;;
	pip)
		if command -v pip3 >/dev/null 2>&1; then
			_a_pip=pip3
		elif command -v pip >/dev/null 2>&1; then
			_a_pip=pip
		else
			_a_why="pip3/pip is not installed in this container"
			return 1
		fi
		_a_pip_list=$_a_work/pip-list
		"$_a_pip" list --format=freeze --disable-pip-version-check >"$_a_pip_list" 2>/dev/null || : >"$_a_pip_list"
		;;
	esac
}

_a_need() {
	for _a_t in "$@"; do
		if ! command -v "$_a_t" >/dev/null 2>&1; then
			_a_why="$_a_t is not installed in this container"
			return 1
		fi
	done
}

# _a_missing MANAGER ROWS: sets _a_missing_specs/_a_missing_names to the
# rows that are not installed (space- and comma-separated).
_a_missing() {
	_a_missing_specs= _a_missing_names= _a_count=0
	while IFS=$_a_tab read -r _a_spec _a_name _a_ver <&6; do
		[ -n "$_a_spec" ] || continue
		_a_count=$((_a_count + 1))
		if ! _a_installed "$1" "$_a_spec" "$_a_name" "$_a_ver" </dev/null; then
			_a_missing_specs="$_a_missing_specs $_a_spec"
			_a_missing_names="$_a_missing_names${_a_missing_names:+,}$_a_spec"
		fi
	done 6<"$2"
}

_a_install() { # MANAGER SPEC...
	_a_im=$1
	shift
	case $_a_im in
	apt)
		apt-get install -y -q -o DPkg::Lock::Timeout=120 \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
		;;
	apk) apk add -q "$@" ;;
	dnf) "$_a_dnf" install -y -q "$@" ;;
	npm) npm install -g --no-audit --no-fund "$@" ;;
	pip)
		set -- install --disable-pip-version-check "$@"
		for _a_em in /usr/lib/python3*/EXTERNALLY-MANAGED; do
			if [ -e "$_a_em" ]; then
				set -- "$@" --break-system-packages
				break
			fi
		done
		"$_a_pip" "$@"
		;;
	esac
}

_a_refresh_index() { # MANAGER
	case $1 in
	apt) _lxctm_apt_update_once ;;
	apk)
		[ -e "$_a_work/apk-updated" ] && return 0
		apk update -q && : >"$_a_work/apk-updated"
		;;
	dnf)
		[ -e "$_a_work/dnf-updated" ] && return 0
		"$_a_dnf" makecache -q && : >"$_a_work/dnf-updated"
		;;
	esac
}

_a_package_step() { # I MANAGER BUCKET DIGEST
	_a_rows=$_a_work/p/$1
	if [ "$2" = custom ]; then
		_a_custom_step "$@"
		return
	fi
	if ! _a_pkg_prepare "$2"; then
		case $2 in
		npm | pip)
			_a_note "warning: $_a_why; skipping the $2 packages of bucket $3"
			_a_result skipped 0 "" "$_a_why: bucket skipped"
			;;
		*) _a_result failed 127 "" "$_a_why" ;;
		esac
		return
	fi
	_a_missing "$2" "$_a_rows"
	if [ -z "$_a_missing_specs" ]; then
		_a_note "all $_a_count packages already installed"
		_a_result ok 0 "$4" "all $_a_count packages already installed"
		return
	fi
	# shellcheck disable=SC2086 # specs are validated: no whitespace, no globs that match
	set -- "$@" $_a_missing_specs
	_a_note "installing:$_a_missing_specs"
	if ! _a_run _a_refresh_index "$2"; then
		_a_result failed "$_a_status" "" "refreshing the $2 package index failed"
		return
	fi
	_a_b=$3 _a_d=$4 _a_m=$2
	shift 4
	if ! _a_run _a_install "$_a_m" "$@"; then
		_a_result failed "$_a_status" "" "$_a_m install of$_a_missing_specs failed (exit status $_a_status)"
		return
	fi
	[ "$_a_m" = pip ] && _a_pkg_prepare pip
	_a_was=$_a_missing_specs
	_a_missing "$_a_m" "$_a_rows"
	if [ -n "$_a_missing_specs" ]; then
		_a_note "still not installed after $_a_m install:$_a_missing_specs"
		_a_result failed 1 "" "still not installed after $_a_m install:$_a_missing_specs"
		return
	fi
	_a_result changed 0 "$_a_d" "installed$_a_was"
}

# _a_custom_run TIMEOUT FILE: runs the command in FILE with bash (sh when
# there is none), under `timeout` when TIMEOUT is not 0 and timeout exists.
_a_custom_run() {
	if [ "$1" != 0 ] && command -v timeout >/dev/null 2>&1; then
		timeout "$1" "$_a_bash" "$2"
	else
		"$_a_bash" "$2"
	fi
}

_a_custom_step() { # I MANAGER BUCKET DIGEST
	_a_fail=0 _a_changed= _a_ok= _a_bad= _a_n=0 _a_exit=0
	while IFS=$_a_tab read -r _a_name _a_to <&7; do
		_a_n=$((_a_n + 1))
		_a_c=$_a_rows.$_a_n.check
		_a_i=$_a_rows.$_a_n.install
		if _a_run _a_custom_run 60 "$_a_c"; then
			_a_note "$_a_name: check passed, already installed"
			_a_ok="$_a_ok $_a_name"
			continue
		fi
		_a_note "$_a_name: check failed, installing (timeout ${_a_to}s)"
		_a_t0=$(date +%s)
		if _a_run _a_custom_run "$_a_to" "$_a_i"; then :; else
			_a_e=$_a_status
			# GNU timeout exits 124; BusyBox's dies with the signal (143).
			case $_a_e in
			124 | 137 | 143) _a_late=$(($(date +%s) - _a_t0 >= _a_to)) ;;
			*) _a_late=0 ;;
			esac
			if [ "$_a_to" != 0 ] && [ "$_a_late" = 1 ]; then
				_a_note "$_a_name: install timed out after ${_a_to}s"
			else
				_a_note "$_a_name: install exited with status $_a_e"
			fi
			_a_fail=1 _a_exit=$_a_e _a_bad="$_a_bad $_a_name"
			continue
		fi
		if _a_run _a_custom_run 60 "$_a_c"; then
			_a_note "$_a_name: installed"
			_a_changed="$_a_changed $_a_name"
		else
			_a_note "$_a_name: check still fails after the install"
			_a_fail=1 _a_bad="$_a_bad $_a_name"
			[ "$_a_exit" = 0 ] && _a_exit=$_a_status
		fi
	done 7<"$_a_rows"
	if [ "$_a_fail" = 1 ]; then
		_a_result failed "$_a_exit" "" "custom installers failed:$_a_bad"
	elif [ -n "$_a_changed" ]; then
		_a_result changed 0 "$4" "installed$_a_changed"
	else
		_a_result ok 0 "$4" "all $_a_n already installed"
	fi
}

_a_package_check() { # I MANAGER BUCKET
	_a_rows=$_a_work/p/$1
	if [ "$2" = custom ]; then
		_a_missing_names=
		_a_n=0
		while IFS=$_a_tab read -r _a_name _a_to <&7; do
			_a_n=$((_a_n + 1))
			if ! _a_custom_run 60 "$_a_rows.$_a_n.check" >/dev/null 2>&1 </dev/null; then
				_a_missing_names="$_a_missing_names${_a_missing_names:+,}$_a_name"
			fi
		done 7<"$_a_rows"
	elif _a_pkg_prepare "$2"; then
		_a_missing "$2" "$_a_rows" </dev/null
	else
		_a_missing_names=
		while IFS=$_a_tab read -r _a_spec _a_name _a_ver; do
			_a_missing_names="$_a_missing_names${_a_missing_names:+,}$_a_spec"
		done <"$_a_rows"
	fi
}

# ---------------------------------------------------------------- scripts

_a_script() { # SCRIPTFILE RUNDIR
	cd "$2" || return 1
	"$_a_bash" -c '. "$1" || exit 97; _lxctm_script=$2; set --; . "$_lxctm_script"' "${1##*/}" "$_a_work/helpers.sh" "$1"
}

# _a_script_step I NAME DIGEST: runs s/I/NAME from a private directory that
# is removed afterwards.
_a_script_step() {
	_a_dir=$_a_work/run.$1
	if ! mkdir -m 0700 "$_a_dir"; then
		_a_result failed 1 "" "cannot create the script's private directory"
		return 1
	fi
	_a_detect_user
	if _a_run _a_script "$_a_work/s/$1/$2" "$_a_dir"; then
		rm -rf "$_a_dir"
		_a_result ok 0 "$3" "script exited with status 0"
		return 0
	fi
	rm -rf "$_a_dir"
	_a_result failed "$_a_status" "" "script exited with status $_a_status"
	return 1
}

# ------------------------------------------------------------------ files

# _a_file_digest CONTENTSHA POLICY MODE: sets _a_fd to the file step digest
# (the Go side computes the same).
_a_file_digest() {
	_a_fd=$(printf 'lxctm.provision.file/v1\n%s\n%s\n%s\n' "$1" "$2" "$3" | sha256sum)
	_a_fd=${_a_fd%% *}
}

_a_sha() { # FILE → _a_h
	_a_h=$(sha256sum <"$1" 2>>"$_a_log") || return 1
	_a_h=${_a_h%% *}
}

_a_mode() { # FILE → _a_fmode (4 octal digits)
	_a_fmode=$(stat -L -c %a "$1" 2>>"$_a_log") || return 1
	_a_fmode=$(printf '%04d' "$_a_fmode")
}

# _a_mkparents DIR: mkdir -p, giving each new directory the owner of the
# directory it was created in (so ~user/.config/app belongs to user).
_a_mkparents() {
	[ -d "$1" ] && return 0
	_a_anc=$1
	while [ ! -d "$_a_anc" ]; do
		_a_anc=${_a_anc%/*}
		[ -n "$_a_anc" ] || _a_anc=/
	done
	mkdir -p "$1" 2>>"$_a_log" || return 1
	_a_owner_dir=
	_a_own=$(stat -c %u:%g "$_a_anc") || return 1
	_a_p=$1
	while [ "$_a_p" != "$_a_anc" ] && [ -n "$_a_p" ]; do
		chown "$_a_own" "$_a_p" 2>>"$_a_log" || return 1
		_a_p=${_a_p%/*}
		[ -n "$_a_p" ] || _a_p=/
	done
}

_a_file_step() { # I TARGET POLICY MODE CONTENTSHA DIGEST
	_a_t=$2
	_a_dir=${_a_t%/*}
	[ -n "$_a_dir" ] || _a_dir=/
	if [ -d "$_a_t" ] && [ ! -L "$_a_t" ]; then
		_a_result failed 1 "" "$_a_t is a directory"
		return 1
	fi
	_a_backup=
	if [ -e "$_a_t" ] || [ -L "$_a_t" ]; then
		if [ -e "$_a_t" ] && _a_sha "$_a_t" && [ "$_a_h" = "$5" ]; then
			if [ "$3" = default ]; then
				_a_result ok 0 "$6" "unchanged"
				return 0
			fi
			_a_mode "$_a_t" || {
				_a_result failed 1 "" "cannot read the mode of $_a_t"
				return 1
			}
			if [ "$_a_fmode" = "$4" ]; then
				_a_result ok 0 "$6" "unchanged"
				return 0
			fi
			if chmod "$4" "$_a_t" 2>>"$_a_log"; then
				_a_note "mode set to $4 (content unchanged)"
				_a_result changed 0 "$6" "mode set to $4"
				return 0
			fi
			_a_result failed 1 "" "cannot set the mode of $_a_t"
			return 1
		fi
		case $3 in
		default)
			_a_note "$_a_t exists; policy default leaves it as it is"
			_a_result ok 0 "$6" "target exists; policy default keeps it"
			return 0
			;;
		backup)
			_a_backup=$_a_t.backup-$(date +%Y%m%d-%H%M%S)
			_a_bbase=$_a_backup _a_bn=0
			while [ -e "$_a_backup" ] || [ -L "$_a_backup" ]; do
				_a_bn=$((_a_bn + 1))
				_a_backup=$_a_bbase-$_a_bn
			done
			if ! mv "$_a_t" "$_a_backup" 2>>"$_a_log"; then
				_a_result failed 1 "" "cannot move $_a_t to $_a_backup"
				return 1
			fi
			_a_note "moved the previous $_a_t to $_a_backup"
			;;
		esac
	fi
	if ! _a_mkparents "$_a_dir"; then
		_a_result failed 1 "" "cannot create directory $_a_dir"
		return 1
	fi
	if ! _a_tmp=$(mktemp "$_a_dir/.lxctm.XXXXXX" 2>>"$_a_log"); then
		_a_result failed 1 "" "cannot write in $_a_dir"
		return 1
	fi
	if [ "$_a_owner_dir" != "$_a_dir" ]; then
		_a_owner=$(stat -c %u:%g "$_a_dir" 2>>"$_a_log") || _a_owner=
		_a_owner_dir=$_a_dir
	fi
	if [ -n "$_a_owner" ] &&
		cat "$_a_work/f/$1" >"$_a_tmp" 2>>"$_a_log" &&
		chmod "$4" "$_a_tmp" 2>>"$_a_log" &&
		chown "$_a_owner" "$_a_tmp" 2>>"$_a_log" &&
		mv -f "$_a_tmp" "$_a_t" 2>>"$_a_log" &&
		_a_sha "$_a_t" && [ "$_a_h" = "$5" ]; then
		if [ -n "$_a_backup" ]; then
			_a_result changed 0 "$6" "written; the previous file is $_a_backup"
		else
			_a_result changed 0 "$6" "written"
		fi
		return 0
	fi
	rm -f "$_a_tmp"
	_a_result failed 1 "" "writing $_a_t failed"
	return 1
}

_a_file_check() { # TARGET POLICY
	if [ ! -e "$1" ] || [ -d "$1" ]; then
		_a_observe "file:$1" missing
		return
	fi
	_a_log=/dev/null
	if _a_sha "$1" && _a_mode "$1"; then
		_a_file_digest "$_a_h" "$2" "$_a_fmode"
		_a_observe "file:$1" "$_a_fd"
	else
		_a_observe "file:$1" missing
	fi
}

# -------------------------------------------------------------- discovery

# Base system services that are not reported (spec/provisioning.md).
_a_base_service() {
	case $1 in
	systemd-* | dbus | dbus-broker | cron | crond | ssh | sshd | getty@* | serial-getty@* | \
		console-getty | container-getty@* | user@* | user-runtime-dir@*) return 0 ;;
	esac
	return 1
}

_a_discover() {
	_a_ip=
	if command -v ip >/dev/null 2>&1; then
		_a_ip=$(ip -4 -o addr show scope global 2>/dev/null | sed -n '1s/.* inet \([0-9.]*\)\/.*/\1/p')
	fi
	if [ -z "$_a_ip" ] && command -v hostname >/dev/null 2>&1; then
		_a_ip=$(hostname -I 2>/dev/null) || _a_ip=
		_a_ip=${_a_ip%% *}
	fi
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		# Let systemd finish the jobs the run queued (a service a file change
		# restarts, say) for up to 10 s, so the snapshot sees settled services;
		# after an apply, first give file watchers (path units) a moment.
		[ "$_a_mode" = apply ] && sleep 0.5
		_a_n=0
		while [ "$_a_n" -lt 50 ] && [ -n "$(systemctl list-jobs --no-legend --no-pager 2>/dev/null)" ]; do
			sleep 0.2
			_a_n=$((_a_n + 1))
		done
		# Listening TCP sockets as "unit port loopback process" lines: the unit
		# from the socket's process's cgroup, the process name as a fallback.
		_a_listen=$_a_work/listen
		: >"$_a_listen"
		if command -v ss >/dev/null 2>&1; then
			ss -Htlnp 2>/dev/null | while read -r _a_st _a_rq _a_sq _a_local _a_peer _a_proc; do
				_a_port=${_a_local##*:}
				case $_a_port in '' | *[!0-9]*) continue ;; esac
				case ${_a_local%:*} in 127.* | '[::1]' | '::1') _a_lo=1 ;; *) _a_lo=0 ;; esac
				printf '%s\n' "$_a_proc" | tr '(' '\n' | sed -n 's/^"\([^"]*\)",pid=\([0-9]*\),.*/\1 \2/p' |
					while read -r _a_pname _a_ppid; do
						_a_unit=$(sed -n 's#.*/system\.slice/\([^/]*\)\.service$#\1#p' "/proc/$_a_ppid/cgroup" 2>/dev/null | head -n 1)
						printf '%s %s %s %s\n' "${_a_unit:--}" "$_a_port" "$_a_lo" "$_a_pname"
					done
			done | sort -u -k3,3n -k2,2n >"$_a_listen"
		fi
		systemctl list-units --type=service --state=running --no-legend --plain --no-pager 2>/dev/null |
			while read -r _a_unit _a_rest; do
				_a_svc=${_a_unit%.service}
				[ "$_a_svc" != "$_a_unit" ] || continue
				_a_base_service "$_a_svc" && continue
				_a_port=0 _a_lo=1
				while read -r _a_u _a_p _a_l _a_pn; do
					if [ "$_a_u" = "$_a_svc" ]; then
						_a_port=$_a_p _a_lo=$_a_l
						break
					fi
				done <"$_a_listen"
				if [ "$_a_port" = 0 ]; then
					while read -r _a_u _a_p _a_l _a_pn; do
						if [ "$_a_pn" = "$_a_svc" ]; then
							_a_port=$_a_p _a_lo=$_a_l
							break
						fi
					done <"$_a_listen"
				fi
				_a_url=
				if [ "$_a_port" != 0 ] && [ "$_a_lo" = 0 ] && [ -n "$_a_ip" ]; then
					_a_url="http://$_a_ip:$_a_port"
				fi
				_a_q "$_a_svc"
				printf '{"service":"%s","port":%d,"url":"%s"}\n' "$_a_r" "$_a_port" "$_a_url"
			done
	fi
	for _a_f in "${LXCTM_CREDENTIALS_DIR:-/etc/lxctm/credentials}"/*; do
		[ -f "$_a_f" ] || continue
		_a_q "${_a_f##*/}"
		_a_svc=$_a_r
		while IFS= read -r _a_line || [ -n "$_a_line" ]; do
			case $_a_line in
			'' | '#'*) continue ;;
			[A-Za-z_]*=*) ;;
			*) continue ;;
			esac
			_a_k=${_a_line%%=*}
			case $_a_k in *[!A-Za-z0-9_]*) continue ;; esac
			_a_q "${_a_line#*=}"
			printf '{"credential":"%s","key":"%s","value":"%s"}\n' "$_a_svc" "$_a_k" "$_a_r"
		done <"$_a_f"
	done
}

# ------------------------------------------------------------------- main

_a_cleanup() {
	if [ -n "${_a_ticker:-}" ]; then kill "$_a_ticker" 2>/dev/null || :; fi
	if [ -n "$_a_work" ]; then rm -rf "$_a_work"; fi
}

_a_main() {
	_a_missing_tools=
	for _a_t in tar sha256sum mktemp mkfifo sed tr tail head cut stat chmod chown mv rm cat date mkdir sort grep; do
		command -v "$_a_t" >/dev/null 2>&1 || _a_missing_tools="$_a_missing_tools $_a_t"
	done
	[ -z "$_a_missing_tools" ] || _a_fatal "the container lacks tools the agent needs:$_a_missing_tools (coreutils, tar, sed, grep)"

	trap _a_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
	_a_work=$(mktemp -d "${TMPDIR:-/tmp}/lxctm-agent.XXXXXX") || _a_fatal "cannot create a temporary directory"

	IFS= read -r _a_hdr || _a_fatal "no manifest on stdin"
	case $_a_hdr in
	"LXCTM-AGENT $_a_protocol "[0-9]*) ;;
	"LXCTM-AGENT "*)
		_a_p=${_a_hdr#LXCTM-AGENT }
		_a_fatal "manifest protocol ${_a_p%% *} is not $_a_protocol: provider and agent disagree"
		;;
	*) _a_fatal "stdin does not start with an LXCTM-AGENT header" ;;
	esac
	_a_len=${_a_hdr##* }
	IFS= read -r _a_json || _a_fatal "the manifest is cut short"
	[ "${#_a_json}" = "$_a_len" ] || _a_fatal "the manifest has ${#_a_json} bytes, the header announced $_a_len"
	printf '%s\n' "$_a_json" >"$_a_work/manifest.json"
	tar -xof - -C "$_a_work" 2>"$_a_work/tar.err" || _a_fatal "cannot unpack the payload: $(head -c 300 "$_a_work/tar.err")"
	exec </dev/null
	[ -f "$_a_work/steps" ] && [ -f "$_a_work/esc.sed" ] || _a_fatal "the payload lacks its steps or esc.sed file"
	_a_esc=$_a_work/esc.sed
	_a_owner_dir=
	if command -v bash >/dev/null 2>&1; then _a_bash=bash; else _a_bash=sh; fi
	_a_mode=$(cat "$_a_work/meta/mode")
	TEMPLATE_NAME=$(cat "$_a_work/meta/template")
	CONTAINER_HOSTNAME=$(cat "$_a_work/meta/hostname")
	if [ -z "$CONTAINER_HOSTNAME" ]; then CONTAINER_HOSTNAME=$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null || :); fi
	_a_setup_env
	. "$_a_work/helpers.sh"

	printf '{"agent":"lxctm-agent","protocol":%d,"mode":"%s"}\n' "$_a_protocol" "$_a_mode"
	if [ "$_a_bash" = sh ] && [ "$_a_mode" = apply ]; then
		printf '[agent] warning: bash is not installed; scripts and custom installers run with sh\n'
	fi

	_a_failed=
	_a_stop=
	_a_phase=
	while IFS=$_a_tab read -r _a_i _a_kind _a_action _a_key0 _a_digest _a_prev _a_1 _a_2 _a_3 <&9; do
		[ "$_a_prev" = - ] && _a_prev=
		if [ "$_a_mode" = check ]; then
			case $_a_kind in
			package)
				_a_package_check "$_a_i" "$_a_1" "$_a_2"
				if [ -z "$_a_missing_names" ]; then
					_a_observe "$_a_key0" "$_a_digest"
				else
					_a_observe "$_a_key0" "missing:$_a_missing_names"
				fi
				;;
			file) _a_file_check "${_a_key0#file:}" "$_a_1" ;;
			esac
			continue
		fi
		# A failed package step stops the run before the scripts; a failed
		# script stops it at once; failed files do not stop other files.
		if [ -n "$_a_failed" ] && [ "$_a_kind" != "$_a_phase" ]; then _a_stop=$_a_failed; fi
		if [ "$_a_kind" = script ] && [ -n "$_a_failed" ]; then _a_stop=$_a_failed; fi
		_a_phase=$_a_kind
		_a_step_begin "$_a_key0"
		if [ -n "$_a_stop" ]; then
			_a_result skipped 0 "$_a_prev" "not run: provisioning stopped at $_a_stop"
			continue
		fi
		if [ "$_a_action" != run ]; then
			_a_result skipped 0 "$_a_prev" "unchanged since it was last applied"
			continue
		fi
		case $_a_kind in
		package) _a_package_step "$_a_i" "$_a_1" "$_a_2" "$_a_digest" ;;
		script) _a_script_step "$_a_i" "$_a_1" "$_a_digest" ;;
		file) _a_file_step "$_a_i" "${_a_key0#file:}" "$_a_1" "$_a_2" "$_a_3" "$_a_digest" ;;
		*) _a_result failed 2 "" "unknown step kind $_a_kind" ;;
		esac
	done 9<"$_a_work/steps"

	_a_discover
	if [ -n "$_a_failed" ]; then
		_a_q "$_a_failed"
		printf '{"done":true,"status":"failed","failed":"%s"}\n' "$_a_r"
		exit 1
	fi
	printf '{"done":true,"status":"ok"}\n'
	exit 0
}

_a_main "$@"

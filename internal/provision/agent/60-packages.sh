# Package buckets of apt, apk, dnf, npm and pip: skip what is installed,
# refresh the index once per run, install the rest of a bucket in one
# call, then check again. A bucket's rows (p/<index>) are
# "spec<TAB>name<TAB>version" lines (payload.go).

# _a_installed MANAGER SPEC NAME VERSION: true when installed as asked.
_a_installed() {
	case $1 in
	apt)
		_a_st=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}\n' "$3" 2>/dev/null) || _a_st=
		case $_a_st in
		ii*)
			[ "$4" = - ] && return 0
			# shellcheck disable=SC2254 # the pin is a dpkg version glob (18.*): matching it as a pattern is the point
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
	_a_missing_specs='' _a_missing_names='' _a_count=0
	while IFS=$_a_tab read -r _a_spec _a_name _a_ver <&6; do
		[ -n "$_a_spec" ] || continue
		_a_count=$((_a_count + 1))
		if ! _a_installed "$1" "$_a_spec" "$_a_name" "$_a_ver" </dev/null; then
			_a_missing_specs="$_a_missing_specs $_a_spec"
			_a_missing_names="$_a_missing_names${_a_missing_names:+,}$_a_spec"
		fi
	done 6<"$2"
}

# _a_install MANAGER SPEC...: installs with MANAGER (run through _a_run).
# shellcheck disable=SC2317 # reached through _a_run "$@", which shellcheck does not follow
_a_install() {
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

# _a_refresh_index MANAGER: refreshes the package index once per run (run
# through _a_run).
# shellcheck disable=SC2317 # reached through _a_run "$@", which shellcheck does not follow
_a_refresh_index() {
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

# _a_package_step I MANAGER BUCKET DIGEST: applies the bucket of step I.
_a_package_step() {
	_a_rows=$_a_work/p/$1
	if [ "$2" = custom ]; then
		_a_custom_step "$_a_rows" "$4"
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
	# The specs are split on purpose (they are validated: no whitespace),
	# with globbing off (a pin such as 18.* is not a file name).
	set -f
	# shellcheck disable=SC2086 # split on purpose, see above
	set -- "$@" $_a_missing_specs
	set +f
	_a_note "installing:$_a_missing_specs"
	if ! _a_run _a_refresh_index "$2"; then
		_a_result failed "$_a_status" "" "refreshing the $2 package index failed"
		return
	fi
	_a_d=$4 _a_m=$2
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

# _a_package_check I MANAGER BUCKET: sets _a_missing_names to the bucket's
# packages that are not installed (comma-separated; all of them when the
# manager is missing).
_a_package_check() {
	_a_rows=$_a_work/p/$1
	if [ "$2" = custom ]; then
		_a_custom_check "$_a_rows"
	elif _a_pkg_prepare "$2"; then
		_a_missing "$2" "$_a_rows" </dev/null
	else
		_a_missing_names=''
		while IFS=$_a_tab read -r _a_spec _a_name _a_ver; do
			_a_missing_names="$_a_missing_names${_a_missing_names:+,}$_a_spec"
		done <"$_a_rows"
	fi
}

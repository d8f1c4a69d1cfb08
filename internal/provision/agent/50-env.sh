# The environment template scripts see (spec/provisioning.md): the
# container's OS and package manager, HOME, CONTAINER_USER, TEMPLATE_NAME,
# CONTAINER_HOSTNAME, and the shell that runs scripts.

_a_setup_env() {
	_a_detect_os
	if command -v apt-get >/dev/null 2>&1; then
		_PKG_MGR=apt
	elif command -v apk >/dev/null 2>&1; then
		_PKG_MGR=apk
	elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
		_PKG_MGR=dnf
	else
		_PKG_MGR=unknown
	fi
	if command -v bash >/dev/null 2>&1; then _a_bash='bash'; else _a_bash='sh'; fi
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
	if [ -z "$CONTAINER_HOSTNAME" ]; then CONTAINER_HOSTNAME=$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null || :); fi
	export HOME DEBIAN_FRONTEND CONTAINER_OS CONTAINER_OS_VERSION _PKG_MGR LXCTM_RUN_DIR
	export TEMPLATE_NAME CONTAINER_HOSTNAME
	_a_detect_user
}

# _a_detect_os: CONTAINER_OS and CONTAINER_OS_VERSION from /etc/os-release,
# normalised as the reference system did: Debian derivatives are "debian",
# RHEL/Fedora derivatives "fedora".
_a_detect_os() {
	_a_osr=''
	if [ -r /etc/os-release ]; then
		_a_osr=$(
			# shellcheck source=/dev/null # the container's own file
			. /etc/os-release >/dev/null 2>&1 || :
			printf '%s|%s|%s' "${ID:-}" "${ID_LIKE:-}" "${VERSION_ID:-}"
		)
	fi
	_a_id=${_a_osr%%|*}
	_a_like=${_a_osr#*|}
	_a_like=${_a_like%%|*}
	CONTAINER_OS_VERSION=${_a_osr##*|}
	case " $_a_id $_a_like " in
	*" debian "*) CONTAINER_OS=debian ;;
	*" fedora "* | *" rhel "*) CONTAINER_OS=fedora ;;
	*) CONTAINER_OS=$_a_id ;;
	esac
}

# _a_detect_user: CONTAINER_USER is the first passwd entry with a uid in
# 1000..65533 and a login shell (scripts create users, so this runs again
# before every script).
_a_detect_user() {
	CONTAINER_USER=''
	while IFS=: read -r _a_n _a_x _a_u _a_g _a_c _a_h _a_s; do
		case $_a_u in '' | *[!0-9]*) continue ;; esac
		if [ "$_a_u" -lt 1000 ] || [ "$_a_u" -gt 65533 ]; then continue; fi
		case $_a_s in '' | */nologin | */false | */sync) continue ;; esac
		CONTAINER_USER=$_a_n
		break
	done </etc/passwd
	export CONTAINER_USER
}

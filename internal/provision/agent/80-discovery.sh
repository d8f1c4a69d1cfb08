# Discovery, after the steps and on every check: running non-system
# services with the TCP port each listens on, and the credentials scripts
# saved with save_credential.

# Base system services that are not reported (spec/provisioning.md).
_a_base_service() {
	case $1 in
	systemd-* | dbus | dbus-broker | cron | crond | ssh | sshd | getty@* | serial-getty@* | \
		console-getty | container-getty@* | user@* | user-runtime-dir@*) return 0 ;;
	esac
	return 1
}

_a_discover() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		_a_discover_ip
		_a_settle_systemd
		_a_listening
		_a_services
	fi
	_a_credentials
}

# _a_discover_ip: sets _a_ip to the container's first global IPv4 address
# (empty when there is none), for the services' URLs.
_a_discover_ip() {
	_a_ip=''
	if command -v ip >/dev/null 2>&1; then
		_a_ip=$(ip -4 -o addr show scope global 2>/dev/null | sed -n '1s/.* inet \([0-9.]*\)\/.*/\1/p')
	fi
	if [ -z "$_a_ip" ] && command -v hostname >/dev/null 2>&1; then
		_a_ip=$(hostname -I 2>/dev/null) || _a_ip=''
		_a_ip=${_a_ip%% *}
	fi
}

# _a_settle_systemd: lets systemd finish the jobs the run queued (a service
# a file change restarts, say) for up to 10 s, so the snapshot sees settled
# services; after an apply, first gives file watchers (path units) a
# moment.
_a_settle_systemd() {
	if [ "$_a_agent_mode" = apply ]; then sleep 0.5; fi
	_a_n=0
	while [ "$_a_n" -lt 50 ] && [ -n "$(systemctl list-jobs --no-legend --no-pager 2>/dev/null)" ]; do
		sleep 0.2
		_a_n=$((_a_n + 1))
	done
}

# _a_listening: writes the listening TCP sockets to $_a_listen as "unit
# port loopback process" lines: the unit from the socket's process's
# cgroup, the process name as a fallback.
_a_listening() {
	_a_listen=$_a_work/listen
	: >"$_a_listen"
	command -v ss >/dev/null 2>&1 || return 0
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
}

# _a_services: a JSON line per running service that is not a base system
# one, with its port (by unit, else by process name) and URL (when it
# listens beyond loopback).
_a_services() {
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
			_a_url=''
			if [ "$_a_port" != 0 ] && [ "$_a_lo" = 0 ] && [ -n "$_a_ip" ]; then
				_a_url="http://$_a_ip:$_a_port"
			fi
			_a_q "$_a_svc"
			printf '{"service":"%s","port":%d,"url":"%s"}\n' "$_a_r" "$_a_port" "$_a_url"
		done
}

# _a_credentials: a JSON line per KEY=VALUE of every
# /etc/lxctm/credentials/<service> file.
_a_credentials() {
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

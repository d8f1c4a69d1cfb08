# A clone of a golden image (meta/clone is 1): before any step runs it
# gets an identity of its own, which the image was stripped of (see
# generalize.sh): a machine id and, where openssh-server is installed, SSH
# host keys. Only what is missing is made, so running this twice, or on a
# machine that has its identity, changes nothing. Steps the image's record
# holds are then reported from it (_a_recorded) instead of running again.

# _a_personalise: gives the clone its machine id and SSH host keys.
_a_personalise() {
	_a_step_begin clone
	_a_step_kind=clone
	_a_new_machine_id || _a_fatal "the clone could not get a machine id of its own: $(tail -n 3 "$_a_log" | tr '\n' ' ')"
	_a_new_host_keys || _a_fatal "the clone could not get SSH host keys of its own: $(tail -n 3 "$_a_log" | tr '\n' ' ')"
	_a_step_end
	rm -f "$_a_log"
}

# _a_new_machine_id: writes /etc/machine-id when it is missing, empty or
# "uninitialized" (systemd usually fills it in at the clone's first boot),
# and turns a copy in /var/lib/dbus into the usual link to it.
_a_new_machine_id() {
	_a_mid=$(cat "$_a_root/etc/machine-id" 2>/dev/null || :)
	case $_a_mid in
	'' | uninitialized)
		if [ -z "$_a_root" ] && command -v systemd-machine-id-setup >/dev/null 2>&1; then
			: >/etc/machine-id && systemd-machine-id-setup >>"$_a_log" 2>&1 || return 1
		else
			mkdir -p "$_a_root/etc" 2>>"$_a_log" || return 1
			_a_mid=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n') || return 1
			printf '%s\n' "$_a_mid" >"$_a_root/etc/machine-id" 2>>"$_a_log" || return 1
			chmod 0444 "$_a_root/etc/machine-id" 2>>"$_a_log" || return 1
		fi
		_a_note "generated a new machine id"
		;;
	esac
	_a_dbus=$_a_root/var/lib/dbus/machine-id
	if [ -f "$_a_dbus" ] && [ ! -L "$_a_dbus" ]; then
		rm -f "$_a_dbus" && ln -s /etc/machine-id "$_a_dbus" 2>>"$_a_log" || return 1
		_a_note "linked /var/lib/dbus/machine-id to /etc/machine-id"
	fi
	return 0
}

# _a_new_host_keys: where openssh-server is installed and host keys are
# missing, generates them (ssh-keygen -A makes only the missing ones) and
# restarts the SSH service that failed to start without them.
_a_new_host_keys() {
	[ -x "$_a_root/usr/sbin/sshd" ] || return 0
	for _a_hk in "$_a_root"/etc/ssh/ssh_host_*_key; do
		[ -f "$_a_hk" ] && return 0
	done
	if [ -n "$_a_root" ]; then
		mkdir -p "$_a_root/etc/ssh" && ssh-keygen -A -f "$_a_root" >>"$_a_log" 2>&1 || return 1
	else
		ssh-keygen -A >>"$_a_log" 2>&1 || return 1
	fi
	_a_note "generated new SSH host keys"
	if [ -n "$_a_root" ] || [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
		return 0
	fi
	for _a_unit in ssh.service sshd.service; do
		if systemctl is-enabled --quiet "$_a_unit" 2>/dev/null; then
			systemctl reset-failed "$_a_unit" >/dev/null 2>&1 || :
			systemctl restart "$_a_unit" >>"$_a_log" 2>&1 || return 1
			_a_note "restarted $_a_unit with the new keys"
			break
		fi
	done
	return 0
}

# _a_recorded KEY: sets _a_rec to the digest the provisioning record holds
# for KEY (empty when it holds none).
_a_recorded() {
	_a_rec=
	[ -f "$_a_record_file" ] || return 0
	while IFS=$_a_tab read -r _a_rk _a_rd; do
		if [ "$_a_rk" = "$1" ]; then
			_a_rec=$_a_rd
			return 0
		fi
	done <"$_a_record_file"
}

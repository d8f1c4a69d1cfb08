# pct push, inside the container: what PVE's push worker does after
# entering the container's namespaces. stdin is the node file.
# Arguments: destination, user-given (0|1), user, group-given (0|1), group,
# mode (octal digits; empty when not given; "!<text>" when it is invalid).
# Errors are printed as PVE words them, with exit status 1.
dest=$1 user_set=$2 user=$3 group_set=$4 group=$5 mode=$6

cd / || { echo "failed to change to container root directory" >&2; exit 1; }

# account_id FILE NAME prints NAME's numeric id from a passwd or group file.
account_id() {
	[ -r "$1" ] || return 1
	while IFS=: read -r name _ id _; do
		if [ "$name" = "$2" ]; then
			printf '%s\n' "$id"
			return 0
		fi
	done <"$1"
	return 1
}

uid='' gid=''
if [ "$user_set" = 1 ]; then
	case $user in
	'' | *[!0-9]*) uid=$(account_id /etc/passwd "$user") || { echo "failed to get uid for: $user" >&2; exit 1; } ;;
	*) uid=$user ;;
	esac
fi
if [ "$group_set" = 1 ]; then
	case $group in
	'' | *[!0-9]*) gid=$(account_id /etc/group "$group") || { echo "failed to get gid for: $group" >&2; exit 1; } ;;
	*) gid=$group ;;
	esac
fi
case $mode in
'!'*) echo "invalid mode: '${mode#!}'" >&2; exit 1 ;;
esac

# Create or truncate the destination; like pct, never create directories.
umask 022
if ! true 2>/dev/null >"$dest"; then
	case $dest in
	*/*) parent=${dest%/*} ;;
	*) parent=. ;;
	esac
	parent=${parent:-/}
	if [ -d "$dest" ]; then
		reason='Is a directory'
	elif [ ! -e "$parent" ]; then
		reason='No such file or directory'
	elif [ ! -d "$parent" ]; then
		reason='Not a directory'
	else
		reason='Permission denied'
	fi
	echo "failed to create file: $dest: $reason" >&2
	exit 1
fi

# pct ignores the result of the copy itself; so does this.
cat >"$dest" 2>/dev/null
[ -z "$mode" ] || chmod "$mode" "$dest"
if [ -n "$uid$gid" ]; then
	if ! out=$(chown "$uid${gid:+:$gid}" "$dest" 2>&1); then
		echo "failed to change file owner: ${out##*: }" >&2
		exit 1
	fi
fi
exit 0

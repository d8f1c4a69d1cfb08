# Files: written atomically (a temporary file in the target directory,
# then mv) with the mode from the spec and the owner of the target
# directory; new parent directories get the owner of the directory they
# were created in. Policies (spec/template-format.md): "default" never
# touches an existing file, "replace" overwrites it, "backup" moves it
# aside first. A file's content is f/<index>.

# _a_file_digest CONTENTSHA POLICY MODE: sets _a_fd to the file step digest
# (FileDigest in steps.go computes the same).
_a_file_digest() {
	_a_fd=$(printf 'lxctm.provision.file/v1\n%s\n%s\n%s\n' "$1" "$2" "$3" | sha256sum)
	_a_fd=${_a_fd%% *}
}

# _a_sha FILE: sets _a_h to the file's sha256.
_a_sha() {
	_a_h=$(sha256sum <"$1" 2>>"$_a_log") || return 1
	_a_h=${_a_h%% *}
}

# _a_file_mode FILE: sets _a_fmode to the file's mode (4 octal digits).
_a_file_mode() {
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
	_a_owner_dir=''
	_a_own=$(stat -c %u:%g "$_a_anc") || return 1
	_a_p=$1
	while [ "$_a_p" != "$_a_anc" ] && [ -n "$_a_p" ]; do
		chown "$_a_own" "$_a_p" 2>>"$_a_log" || return 1
		_a_p=${_a_p%/*}
		[ -n "$_a_p" ] || _a_p=/
	done
}

# _a_file_step I TARGET POLICY MODE CONTENTSHA DIGEST: applies the file of
# step I.
_a_file_step() {
	_a_t=$2
	if [ -d "$_a_t" ] && [ ! -L "$_a_t" ]; then
		_a_result failed 1 "" "$_a_t is a directory"
		return 1
	fi
	_a_backup=''
	if [ -e "$_a_t" ] || [ -L "$_a_t" ]; then
		if [ -e "$_a_t" ] && _a_sha "$_a_t" && [ "$_a_h" = "$5" ]; then
			_a_file_same "$3" "$4" "$6"
			return
		fi
		case $3 in
		default)
			_a_note "$_a_t exists; policy default leaves it as it is"
			_a_result ok 0 "$6" "target exists; policy default keeps it"
			return 0
			;;
		backup) _a_file_backup || return 1 ;;
		esac
	fi
	_a_file_write "$1" "$4" "$5" "$6"
}

# _a_file_same POLICY MODE DIGEST: the target ($_a_t) already has the
# content; only its mode may need setting.
_a_file_same() {
	if [ "$1" = default ]; then
		_a_result ok 0 "$3" "unchanged"
		return 0
	fi
	if ! _a_file_mode "$_a_t"; then
		_a_result failed 1 "" "cannot read the mode of $_a_t"
		return 1
	fi
	if [ "$_a_fmode" = "$2" ]; then
		_a_result ok 0 "$3" "unchanged"
		return 0
	fi
	if chmod "$2" "$_a_t" 2>>"$_a_log"; then
		_a_note "mode set to $2 (content unchanged)"
		_a_result changed 0 "$3" "mode set to $2"
		return 0
	fi
	_a_result failed 1 "" "cannot set the mode of $_a_t"
	return 1
}

# _a_file_backup: moves the target ($_a_t) to a new
# <target>.backup-<date>[-n] and sets _a_backup to that name.
_a_file_backup() {
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
}

# _a_file_write I MODE CONTENTSHA DIGEST: writes f/I to the target ($_a_t)
# and checks what landed there.
_a_file_write() {
	_a_dir=${_a_t%/*}
	[ -n "$_a_dir" ] || _a_dir=/
	if ! _a_mkparents "$_a_dir"; then
		_a_result failed 1 "" "cannot create directory $_a_dir"
		return 1
	fi
	if ! _a_tmp=$(mktemp "$_a_dir/.lxctm.XXXXXX" 2>>"$_a_log"); then
		_a_result failed 1 "" "cannot write in $_a_dir"
		return 1
	fi
	if [ "$_a_owner_dir" != "$_a_dir" ]; then
		_a_owner=$(stat -c %u:%g "$_a_dir" 2>>"$_a_log") || _a_owner=''
		_a_owner_dir=$_a_dir
	fi
	if [ -n "$_a_owner" ] &&
		cat "$_a_work/f/$1" >"$_a_tmp" 2>>"$_a_log" &&
		chmod "$2" "$_a_tmp" 2>>"$_a_log" &&
		chown "$_a_owner" "$_a_tmp" 2>>"$_a_log" &&
		mv -f "$_a_tmp" "$_a_t" 2>>"$_a_log" &&
		_a_sha "$_a_t" && [ "$_a_h" = "$3" ]; then
		if [ -n "$_a_backup" ]; then
			_a_result changed 0 "$4" "written; the previous file is $_a_backup"
		else
			_a_result changed 0 "$4" "written"
		fi
		return 0
	fi
	rm -f "$_a_tmp"
	_a_result failed 1 "" "writing $_a_t failed"
	return 1
}

# _a_file_check KEY TARGET POLICY: observes the file's digest (missing
# when it is absent or not a file).
_a_file_check() {
	if [ ! -e "$2" ] || [ -d "$2" ]; then
		_a_observe "$1" missing
		return
	fi
	_a_log=/dev/null
	if _a_sha "$2" && _a_file_mode "$2"; then
		_a_file_digest "$_a_h" "$3" "$_a_fmode"
		_a_observe "$1" "$_a_fd"
	else
		_a_observe "$1" missing
	fi
}

# .custom installers: each row has a check and an install command; a row
# whose check fails is installed under `timeout` and checked again, and a
# failing row does not stop the others. A custom bucket's rows (p/<index>)
# are "name<TAB>timeout" lines, row n with its commands in
# p/<index>.<n>.check and p/<index>.<n>.install (payload.go).

# _a_custom_run TIMEOUT FILE: runs the command in FILE with bash (sh when
# there is none), under `timeout` when TIMEOUT is not 0 and timeout exists.
_a_custom_run() {
	if [ "$1" != 0 ] && command -v timeout >/dev/null 2>&1; then
		timeout "$1" "$_a_bash" "$2"
	else
		"$_a_bash" "$2"
	fi
}

# _a_custom_step ROWS DIGEST: runs the bucket's installers.
_a_custom_step() {
	_a_fail=0 _a_changed='' _a_ok='' _a_bad='' _a_n=0 _a_exit=0
	while IFS=$_a_tab read -r _a_name _a_to <&7; do
		_a_n=$((_a_n + 1))
		_a_c=$1.$_a_n.check
		_a_i=$1.$_a_n.install
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
	done 7<"$1"
	if [ "$_a_fail" = 1 ]; then
		_a_result failed "$_a_exit" "" "custom installers failed:$_a_bad"
	elif [ -n "$_a_changed" ]; then
		_a_result changed 0 "$2" "installed$_a_changed"
	else
		_a_result ok 0 "$2" "all $_a_n already installed"
	fi
}

# _a_custom_check ROWS: sets _a_missing_names to the installers whose check
# fails (comma-separated).
_a_custom_check() {
	_a_missing_names=''
	_a_n=0
	while IFS=$_a_tab read -r _a_name _a_to <&7; do
		_a_n=$((_a_n + 1))
		if ! _a_custom_run 60 "$1.$_a_n.check" >/dev/null 2>&1 </dev/null; then
			_a_missing_names="$_a_missing_names${_a_missing_names:+,}$_a_name"
		fi
	done 7<"$1"
}

# Template scripts: each runs as root with bash (sh when there is none),
# the helpers sourced first, from a private directory that is removed
# afterwards. A script is s/<index>/<name>, under its own name so that
# error messages and $0 name it.

# _a_script SCRIPTFILE RUNDIR: sources the helpers, then the script, in a
# new shell (run through _a_run).
# shellcheck disable=SC2317 # reached through _a_run "$@", which shellcheck does not follow
_a_script() {
	cd "$2" || return 1
	# shellcheck disable=SC2016 # the inner shell expands its own "$1" and "$2"
	"$_a_bash" -c '. "$1" || exit 97; _lxctm_script=$2; set --; . "$_lxctm_script"' "${1##*/}" "$_a_work/helpers.sh" "$1"
}

# _a_script_step I NAME DIGEST: runs s/I/NAME.
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

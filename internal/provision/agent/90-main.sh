# The run: check the tools, read stdin, give a clone its identity, then
# apply (or check) every step of the steps table in order, write the
# provisioning record, discover, and report how it ended.

# _a_cleanup: stops the ticker and removes the work directory (on exit).
# shellcheck disable=SC2317 # reached through the EXIT trap
_a_cleanup() {
	if [ -n "$_a_ticker" ]; then kill "$_a_ticker" 2>/dev/null || :; fi
	if [ -n "$_a_work" ]; then rm -rf "$_a_work"; fi
}

# _a_require_tools: fails unless the tools the agent itself uses exist.
_a_require_tools() {
	_a_missing_tools=''
	for _a_t in tar sha256sum mktemp mkfifo sed tr tail head cut stat chmod chown mv rm cat date mkdir sort grep; do
		command -v "$_a_t" >/dev/null 2>&1 || _a_missing_tools="$_a_missing_tools $_a_t"
	done
	[ -z "$_a_missing_tools" ] || _a_fatal "the container lacks tools the agent needs:$_a_missing_tools (coreutils, tar, sed, grep)"
}

# _a_apply_step: applies the step just read, or reports it skipped. A
# failed package step stops the run before the scripts; a failed script
# stops it at once; failed files do not stop other files.
_a_apply_step() {
	if [ -n "$_a_failed" ] && [ "$_a_step_kind" != "$_a_phase" ]; then _a_stop=$_a_failed; fi
	if [ "$_a_step_kind" = script ] && [ -n "$_a_failed" ]; then _a_stop=$_a_failed; fi
	_a_phase=$_a_step_kind
	_a_step_begin "$_a_step_key"
	if [ -n "$_a_stop" ]; then
		_a_result skipped 0 "$_a_step_applied" "not run: provisioning stopped at $_a_stop"
		return
	fi
	if [ "$_a_step_action" = recorded ]; then
		_a_recorded "$_a_step_key"
		if [ -n "$_a_rec" ]; then
			_a_result skipped 0 "$_a_rec" "applied in the golden image this container was cloned from"
		else
			_a_result skipped 0 "" "not in the provisioning record of the golden image this container was cloned from"
		fi
		return
	fi
	if [ "$_a_step_action" != run ]; then
		_a_result skipped 0 "$_a_step_applied" "unchanged since it was last applied"
		return
	fi
	case $_a_step_kind in
	package) _a_package_step "$_a_step_index" "$_a_step_manager" "$_a_step_bucket" "$_a_step_digest" ;;
	script) _a_script_step "$_a_step_index" "$_a_step_script" "$_a_step_digest" ;;
	file) _a_file_step "$_a_step_index" "$_a_step_target" "$_a_step_policy" "$_a_step_mode" "$_a_step_content_sha256" "$_a_step_digest" ;;
	*) _a_result failed 2 "" "unknown step kind $_a_step_kind" ;;
	esac
}

# _a_check_step: observes the step just read, changing nothing: a
# bucket's digest when all its packages are installed, else
# "missing:<specs>"; a file's digest as found.
_a_check_step() {
	case $_a_step_kind in
	package)
		_a_package_check "$_a_step_index" "$_a_step_manager" "$_a_step_bucket"
		if [ -z "$_a_missing_names" ]; then
			_a_observe "$_a_step_key" "$_a_step_digest"
		else
			_a_observe "$_a_step_key" "missing:$_a_missing_names"
		fi
		;;
	file) _a_file_check "$_a_step_key" "$_a_step_target" "$_a_step_policy" ;;
	esac
}

_a_main() {
	_a_require_tools
	trap _a_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
	_a_work=$(mktemp -d "${TMPDIR:-/tmp}/lxctm-agent.XXXXXX") || _a_fatal "cannot create a temporary directory"
	_a_read_input
	_a_setup_env
	# shellcheck source=/dev/null # helpers.sh is linted on its own
	. "$_a_work/helpers.sh"

	printf '{"agent":"lxctm-agent","protocol":%d,"mode":"%s"}\n' "$_a_protocol" "$_a_agent_mode"
	if [ "$_a_bash" = sh ] && [ "$_a_agent_mode" = apply ]; then
		printf '[agent] warning: bash is not installed; scripts and custom installers run with sh\n'
	fi

	if [ "$_a_clone" = 1 ] && [ "$_a_agent_mode" = apply ]; then _a_personalise; fi
	_a_failed='' _a_stop='' _a_phase=''
	while _a_read_step; do
		if [ "$_a_agent_mode" = check ]; then _a_check_step; else _a_apply_step; fi
	done 9<"$_a_work/steps"
	if [ "$_a_agent_mode" = apply ]; then _a_write_record; fi

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

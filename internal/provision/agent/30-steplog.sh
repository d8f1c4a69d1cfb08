# A step's output: the agent's notes and its commands' output go to the
# step log, which is streamed as progress lines "[<step>] <text>" while the
# step runs; its last 40 lines become the result's output_tail.

_a_step_begin() { # KEY
	_a_key=$1
	_a_seq=$((_a_seq + 1))
	_a_log=$_a_work/log.$_a_seq
	: >"$_a_log"
	rm -f "$_a_work/credentials-saved"
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

# _a_result STATUS EXIT SHA256 MESSAGE: ends the current step, prints its
# result line (saved_credentials says whether it called save_credential,
# which helpers.sh marks in the work directory) and notes its digest for
# the provisioning record (90-main).
_a_result() {
	_a_step_end
	if [ "$1" = failed ] || [ "$1" = skipped ]; then _a_tail "$_a_log"; else _a_tailjson=; fi
	if [ "$1" = failed ] && [ -z "$_a_failed" ]; then _a_failed=$_a_key; fi
	_a_saved=false
	if [ -e "$_a_work/credentials-saved" ]; then _a_saved=true; fi
	if [ "$1" != failed ] && [ -n "$3" ]; then printf '%s\t%s\n' "$_a_key" "$3" >>"$_a_work/record"; fi
	_a_q "$_a_key"
	_a_k=$_a_r
	_a_q "$4"
	printf '{"step":"%s","kind":"%s","status":"%s","exit":%d,"output_tail":[%s],"sha256":"%s","message":"%s","saved_credentials":%s}\n' \
		"$_a_k" "$_a_step_kind" "$1" "$2" "$_a_tailjson" "$3" "$_a_r" "$_a_saved"
	rm -f "$_a_log"
}

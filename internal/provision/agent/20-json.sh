# JSON lines on stdout. Text goes into JSON strings through _a_q; the
# lines themselves are printed by the step log (30-steplog), the main loop
# and discovery.

# _a_repl STR FROM TO: sets _a_r to STR with every FROM replaced by TO.
_a_repl() {
	_a_s=$1
	_a_r=''
	while :; do
		case $_a_s in
		*"$2"*)
			_a_r=$_a_r${_a_s%%"$2"*}$3
			_a_s=${_a_s#*"$2"}
			;;
		*)
			_a_r=$_a_r$_a_s
			return 0
			;;
		esac
	done
}

# _a_q TEXT: sets _a_r to TEXT escaped for a JSON string. Printable ASCII is
# escaped in the shell; anything else goes through the generated sed script
# (esc.sed from the payload: control characters become \u00XX; other
# bytes pass unchanged, and the reader replaces invalid UTF-8). Newlines
# become spaces.
_a_q() {
	case $1 in
	*[![:print:]]*)
		if [ -n "$_a_esc" ]; then
			_a_r=$(printf '%s' "$1" | tr '\n' ' ' | sed -f "$_a_esc")
		else
			_a_r=$(printf '%s' "$1" | tr '\n' ' ' | tr -c '[:print:]' '?')
			_a_repl "$_a_r" "\\" "\\\\"
			_a_repl "$_a_r" '"' '\"'
		fi
		;;
	*)
		_a_repl "$1" "\\" "\\\\"
		_a_repl "$_a_r" '"' '\"'
		;;
	esac
}

# _a_fatal MESSAGE: the agent cannot run at all.
_a_fatal() {
	_a_q "$1"
	printf '{"fatal":"%s"}\n' "$_a_r"
	exit 2
}

# _a_observe KEY VALUE: a check-mode observation.
_a_observe() {
	_a_q "$1"
	_a_k=$_a_r
	_a_q "$2"
	printf '{"observe":"%s","sha256":"%s"}\n' "$_a_k" "$_a_r"
}

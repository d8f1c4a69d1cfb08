# stdin: a header line "LXCTM-AGENT <protocol>", then a tar that the agent
# unpacks into its work directory: meta/mode, meta/template,
# meta/hostname and meta/clone, the steps table, helpers.sh, esc.sed and
# each step's payload (payload.go describes the layout).

# _a_read_input: checks the header, unpacks the payload and reads the meta
# values; stdin is /dev/null afterwards.
_a_read_input() {
	IFS= read -r _a_hdr || _a_fatal "stdin is empty: no LXCTM-AGENT header"
	case $_a_hdr in
	"LXCTM-AGENT $_a_protocol") ;;
	"LXCTM-AGENT "*) _a_fatal "protocol ${_a_hdr#LXCTM-AGENT } is not $_a_protocol: provider and agent disagree" ;;
	*) _a_fatal "stdin does not start with an LXCTM-AGENT header" ;;
	esac
	tar -xof - -C "$_a_work" 2>"$_a_work/tar.err" || _a_fatal "cannot unpack the payload: $(head -c 300 "$_a_work/tar.err")"
	exec </dev/null
	if [ ! -f "$_a_work/steps" ] || [ ! -f "$_a_work/esc.sed" ]; then
		_a_fatal "the payload lacks its steps or esc.sed file"
	fi
	_a_esc=$_a_work/esc.sed
	_a_agent_mode=$(cat "$_a_work/meta/mode")
	TEMPLATE_NAME=$(cat "$_a_work/meta/template")
	CONTAINER_HOSTNAME=$(cat "$_a_work/meta/hostname")
	_a_clone=$(cat "$_a_work/meta/clone")
}

# The steps table has one line per step, its values separated by tabs. Its
# columns, in order, and what each holds for each step kind are defined
# once, by stepColumns in steptable.go; TestAgentReadsStepColumns checks
# this reader against that table.

# _a_read_step: reads the next line of the steps table (fd 9) into
# $_a_step_<column>; fails at the end of the table.
_a_read_step() {
	IFS=$_a_tab read -r _a_step_index _a_step_kind _a_step_action _a_step_key _a_step_digest _a_step_applied \
		_a_step_manager _a_step_bucket _a_step_script _a_step_target _a_step_policy _a_step_mode \
		_a_step_content_sha256 <&9 || return 1
	# read merges adjacent tabs, so no value is empty: "-" stands for an
	# empty applied digest and for a column the step's kind does not use.
	if [ "$_a_step_applied" = - ]; then _a_step_applied=''; fi
	# A missing or an extra column shows in the last one.
	case $_a_step_content_sha256 in
	'' | *"$_a_tab"*) _a_fatal "step $_a_step_index: the steps table does not have the columns this agent reads; provider and agent disagree" ;;
	esac
}

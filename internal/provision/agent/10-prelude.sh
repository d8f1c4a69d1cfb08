# shellcheck shell=sh
# lxctm-agent: applies a template's packages, scripts and files inside a
# container (or checks them for drift) in one `pct exec`. POSIX sh: it runs
# under dash, bash and BusyBox sh.
#
# The provider embeds the files of this directory whose names start with a
# digit and joins them in name order into one script (helpers.sh travels
# in the payload instead); each file starts by saying what it does. This
# one sets up the shell and the agent's globals.
#
# stdin:  "LXCTM-AGENT <protocol>" NL, then a tar (see 40-input).
# stdout: JSON lines that start with "{" (agent, step, observe, service,
#         credential, fatal, done) and progress lines "[<step>] <text>".
# exit:   0 all steps fine, 1 a step failed, 2 the agent could not start.

set -u
umask 022
LC_ALL=C
export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
unset ENV BASH_ENV CDPATH || :

# _a_protocol must equal agentProtocol in payload.go.
_a_protocol=3
_a_tab=$(printf '\t')
_a_nl='
'
_a_work=
_a_esc=
_a_seq=0
_a_events=
_a_ticker=
_a_owner_dir=
_a_agent_pid=$$
_a_clone=
# The provisioning record (85-record) and the root that a clone's identity
# is regenerated under (55-clone); tests point both into a directory of
# their own, the provider never sets them.
_a_record_file=${LXCTM_RECORD_FILE:-/etc/lxctm/provisioned}
_a_root=${LXCTM_ROOT:-}

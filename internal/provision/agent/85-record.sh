# The provisioning record: after an apply run, the digest of every step
# that is applied in the container, as "key<TAB>sha256" lines in
# /etc/lxctm/provisioned. It lives inside the container, so a clone of a
# golden image inherits what its image applied and reports it (action
# "recorded") without running those steps again.

# _a_write_record: replaces the record with the digests this run's results
# noted ($_a_work/record, written by _a_result); a failure only warns, since
# the provider's state holds the same digests.
_a_write_record() {
	_a_rdir=${_a_record_file%/*}
	[ -n "$_a_rdir" ] || _a_rdir=/
	if mkdir -p "$_a_rdir" 2>/dev/null && _a_rtmp=$(mktemp "$_a_rdir/.provisioned.XXXXXX" 2>/dev/null); then
		if {
			printf '# lxctm provisioning record: the digest of every applied step (key<TAB>sha256)\n'
			if [ -f "$_a_work/record" ]; then cat "$_a_work/record"; fi
		} >"$_a_rtmp" && chmod 0644 "$_a_rtmp" && mv -f "$_a_rtmp" "$_a_record_file"; then
			return 0
		fi
		rm -f "$_a_rtmp"
	fi
	printf '[agent] warning: cannot write the provisioning record %s\n' "$_a_record_file"
}

# pct pull, inside the container: the reading half of PVE's pull worker.
# Argument: the path inside the container. The file goes to stdout.
# Errors are printed as PVE words them, with exit status 1.
cd / || { echo "failed to change to container root directory" >&2; exit 1; }
if [ ! -e "$1" ]; then
	echo "failed to open $1: No such file or directory" >&2
	exit 1
fi
if [ ! -r "$1" ]; then
	echo "failed to open $1: Permission denied" >&2
	exit 1
fi
# Opening a directory succeeds for pct and copies nothing.
[ -d "$1" ] && exit 0
exec cat -- "$1"

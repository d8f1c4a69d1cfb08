# shellcheck shell=sh
# lxctm-generalize: strips a provisioned container of what identifies it
# and of the secrets its scripts saved, right before it is stopped and
# converted into a golden image (a Proxmox VE template) that containers
# are cloned from. Each clone gets its own again on its first run
# (agent/55-clone.sh), and runs the steps that saved credentials again.
#
# Removed: the machine id (/etc/machine-id emptied, /var/lib/dbus/machine-id
# made a link to it), SSH host keys where openssh-server is installed,
# /etc/lxctm/credentials, systemd's random seed, and the package managers'
# indexes and caches. Kept: the provisioning record
# (/etc/lxctm/provisioned), so clones report what the image applied.
#
# It works on / only inside an LXC container; LXCTM_ROOT names another root
# (tests), so it can never strip the machine it runs on by mistake.
# stdout: one "[generalize] ..." line per change. exit: 0 done, 1 a step
# failed, 3 refused.

set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
root=${LXCTM_ROOT:-}

note() { printf '[generalize] %s\n' "$1"; }
fail() {
	printf 'lxctm-generalize: %s\n' "$1" >&2
	exit 1
}

# in_lxc: true inside an LXC container, as every Proxmox VE container is
# (LXC sets container=lxc for init, and systemd records it).
in_lxc() {
	[ "$(cat /run/systemd/container 2>/dev/null)" = lxc ] && return 0
	tr '\0' '\n' </proc/1/environ 2>/dev/null | grep -qx 'container=lxc'
}

if [ -z "$root" ] && ! in_lxc; then
	echo "lxctm-generalize: refusing to run outside an LXC container: it removes the machine's identity and secrets" >&2
	exit 3
fi

# The machine id: emptied, so systemd makes a new one at a clone's first
# boot (an empty file is not "first boot"; Proxmox VE's clone does the same).
if [ -e "$root/etc/machine-id" ] || [ -L "$root/etc/machine-id" ]; then
	: >"$root/etc/machine-id" || fail "cannot empty /etc/machine-id"
	note "emptied /etc/machine-id"
fi
dbus_id=$root/var/lib/dbus/machine-id
if [ -f "$dbus_id" ] && [ ! -L "$dbus_id" ]; then
	if ! { rm -f "$dbus_id" && ln -s /etc/machine-id "$dbus_id"; }; then
		fail "cannot link /var/lib/dbus/machine-id to /etc/machine-id"
	fi
	note "linked /var/lib/dbus/machine-id to /etc/machine-id"
fi

# SSH host keys, where openssh-server is installed.
if [ -x "$root/usr/sbin/sshd" ]; then
	for key in "$root"/etc/ssh/ssh_host_*; do
		[ -e "$key" ] || continue
		rm -f "$key" || fail "cannot remove $key"
		removed_keys=1
	done
	if [ -n "${removed_keys:-}" ]; then note "removed the SSH host keys"; fi
fi

# Credentials scripts saved with save_credential.
creds=${LXCTM_CREDENTIALS_DIR:-$root/etc/lxctm/credentials}
if [ -d "$creds" ]; then
	rm -rf "$creds" || fail "cannot remove $creds"
	note "removed the saved credentials"
fi

if [ -e "$root/var/lib/systemd/random-seed" ]; then
	rm -f "$root/var/lib/systemd/random-seed" || fail "cannot remove systemd's random seed"
	note "removed systemd's random seed"
fi

# Package indexes and caches: a clone that installs a package refreshes
# the index first, as provisioning always does.
if [ -d "$root/var/lib/apt/lists" ]; then
	if [ -z "$root" ] && command -v apt-get >/dev/null 2>&1; then
		apt-get clean || fail "apt-get clean failed"
	fi
	find "$root/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} + || fail "cannot remove the apt lists"
	find "$root/var/lib/apt/lists/partial" -mindepth 1 -delete 2>/dev/null || :
	rm -f "$root"/var/cache/apt/*.bin || :
	note "cleaned the apt lists and caches"
fi
if [ -d "$root/var/cache/apk" ]; then
	find "$root/var/cache/apk" -mindepth 1 -delete || fail "cannot clean the apk cache"
	note "cleaned the apk cache"
fi
if [ -z "$root" ] && command -v dnf >/dev/null 2>&1; then
	dnf clean all -q || fail "dnf clean all failed"
	note "cleaned the dnf caches"
fi
exit 0

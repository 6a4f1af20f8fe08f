#!/bin/sh
# Install podguard from this unpacked tarball.
#
#   sh install.sh [--root DIR] [--bindir DIR] [--unitdir DIR] [--start]
#
# Copies the binary (default /usr/bin), the systemd unit (default
# /lib/systemd/system), /etc/podguard/config.toml and the shipped rulesets in
# /etc/podguard/rules.d, and creates /var/lib/podguard (0700) and
# /var/log/podguard (0750). A config file or ruleset that already exists is
# kept, like a package upgrade does: the shipped version is written beside it
# as FILE.new. With --bindir the unit's ExecStart points at that directory
# (for read-only /usr systems, e.g. /var/lib/google/podguard on
# Container-Optimized OS). --root DIR installs into another root (an image
# being built) and never touches the running systemd.
#
# When systemctl exists the unit is enabled (it starts at the next boot);
# with a running systemd, units are reloaded and, with --start, podguard is
# started — or restarted, when it already runs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=""
bindir=/usr/bin
unitdir=/lib/systemd/system
start=no

usage() { sed -n '2,19s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
	case $1 in
	--root) root=$2; shift 2 ;;
	--root=*) root=${1#*=}; shift ;;
	--bindir) bindir=$2; shift 2 ;;
	--bindir=*) bindir=${1#*=}; shift ;;
	--unitdir) unitdir=$2; shift 2 ;;
	--unitdir=*) unitdir=${1#*=}; shift ;;
	--start) start=yes; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "install.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ] && [ -z "$root" ]; then
	echo "install.sh: run as root (or give --root DIR)" >&2
	exit 1
fi
umask 022

# put SRC DST MODE: copy through a temporary file, then rename (atomic).
put() {
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2.tmp.$$"
	chmod "$3" "$2.tmp.$$"
	mv -f "$2.tmp.$$" "$2"
}

# config SRC DST: install a config file unless the operator already has one.
config() {
	if [ -e "$2" ]; then
		if ! cmp -s "$1" "$2"; then
			put "$1" "$2.new" 0644
			echo "kept $2 (the shipped version is $2.new)"
		fi
	else
		put "$1" "$2" 0644
	fi
}

put "$here/usr/bin/podguard" "$root$bindir/podguard" 0755
mkdir -p "$root$unitdir"
sed "s|^ExecStart=/usr/bin/podguard |ExecStart=$bindir/podguard |" \
	"$here/lib/systemd/system/podguard.service" >"$root$unitdir/podguard.service.tmp.$$"
chmod 0644 "$root$unitdir/podguard.service.tmp.$$"
mv -f "$root$unitdir/podguard.service.tmp.$$" "$root$unitdir/podguard.service"

mkdir -p "$root/etc/podguard/rules.d"
config "$here/etc/podguard/config.toml" "$root/etc/podguard/config.toml"
for f in "$here"/etc/podguard/rules.d/*.toml; do
	config "$f" "$root/etc/podguard/rules.d/$(basename "$f")"
done
mkdir -p "$root/var/lib/podguard" "$root/var/log/podguard"
chmod 0700 "$root/var/lib/podguard"
chmod 0750 "$root/var/log/podguard"
echo "installed podguard $("$root$bindir/podguard" version 2>/dev/null | sed 's/^podguard //') to ${root:-/}"

command -v systemctl >/dev/null 2>&1 || exit 0
if [ -n "$root" ]; then
	systemctl --root="$root" enable podguard.service >/dev/null 2>&1 || true
	exit 0
fi
systemctl enable podguard.service >/dev/null 2>&1 || true
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	if [ "$start" = yes ]; then
		systemctl restart podguard.service
	else
		systemctl try-restart podguard.service
	fi
fi

#!/bin/sh
# podguard package: after removal (deb postrm, rpm %postun).
#
# deb calls it as "remove", "purge", "upgrade NEW-VERSION"...; rpm as "0"
# (removal) or "1" (upgrade). After a removal systemd forgets the unit;
# "dpkg --purge" also deletes podguard's state and event logs (dpkg itself
# deletes the config files). rpm has no purge: /var/lib/podguard and
# /var/log/podguard stay until deleted by hand.
set -u

root=${DPKG_ROOT:-}
case "${1:-}" in
purge)
	rm -rf "$root/var/lib/podguard" "$root/var/log/podguard"
	;;
esac

case "${1:-}" in
remove | purge | 0)
	if [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl daemon-reload >/dev/null 2>&1
	fi
	;;
esac
exit 0

#!/bin/sh
# podguard package: before removal (deb prerm, rpm %preun).
#
# deb calls it as "remove" (removal) or "upgrade NEW-VERSION"; rpm as "0"
# (removal) or "1" (upgrade). On removal podguard is stopped and disabled;
# on upgrade it keeps running until the new package's postinstall restarts
# it. Isolation filters already applied stay in the kernel (see README:
# `podguard release` lifts them; remove it before the package if needed).
#
# Never fails the removal: without systemctl or a running systemd, the
# systemctl steps are skipped.
set -u

case "${1:-}" in
remove | 0) ;;
*) exit 0 ;;
esac

command -v systemctl >/dev/null 2>&1 || exit 0

root=${DPKG_ROOT:-}
if [ -n "$root" ]; then
	systemctl --root="$root" disable podguard.service >/dev/null 2>&1
	exit 0
fi

if [ -d /run/systemd/system ]; then
	systemctl stop podguard.service >/dev/null 2>&1
fi
systemctl disable podguard.service >/dev/null 2>&1
exit 0

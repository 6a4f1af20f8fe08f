#!/bin/sh
# podguard package: after install or upgrade (deb postinst, rpm %post).
#
# deb calls it as "configure [OLD-VERSION]" (no OLD-VERSION on a first
# install); rpm as "1" on a first install and "2" or more on an upgrade.
#
# First install: enable podguard.service so it starts on the next boot, but
# do not start it now — the operator first puts the node's config and
# rulesets in place (and an image build in a chroot has no systemd to start
# it in). Set PODGUARD_START=1 in the installer's environment to start it at
# once as well. Upgrade: the unit stays enabled or disabled as the operator
# left it, and a running podguard is restarted onto the new binary
# (isolation filters live in the kernel and survive the restart).
#
# Never fails the install: without systemctl or a running systemd, the
# systemctl steps are skipped.
set -u

first=no
case "${1:-}" in
configure) [ -z "${2:-}" ] && first=yes ;;
1) first=yes ;;
[0-9]*) first=no ;;
*) exit 0 ;; # abort-upgrade, abort-remove...: nothing to undo
esac

command -v systemctl >/dev/null 2>&1 || exit 0

# DPKG_ROOT is set when dpkg installs into another root (--root with
# --force-script-chrootless): act on that root's units, never on this
# machine's systemd.
root=${DPKG_ROOT:-}
if [ -n "$root" ]; then
	[ "$first" = yes ] && systemctl --root="$root" enable podguard.service >/dev/null 2>&1
	exit 0
fi

# Enabling only writes the wants/ symlink: it works offline too (image
# builds in a chroot), so it is not guarded by a running systemd.
[ "$first" = yes ] && systemctl enable podguard.service >/dev/null 2>&1

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1
	if [ "$first" = yes ]; then
		case "${PODGUARD_START:-0}" in
		1 | yes | true) systemctl start podguard.service ;;
		esac
	else
		systemctl try-restart podguard.service
	fi
fi
exit 0

#!/bin/sh
# podguard as a Bottlerocket superpowered host container.
#
# host-ctr runs a superpowered host container privileged, with every
# capability and in the host's PID namespace, but in a mount namespace of
# its own: the host's bpffs, cgroup tree, tracefs and containerd socket are
# not in it. Through the host's PID 1 (/proc/1/root) this script binds them
# to where podguard looks, puts podguard's state and event log on the
# container's persistent storage (/local/host-containers/NAME on the host),
# and runs podguard in the host's network namespace (the pods' host-side
# veths live there).
#
# Settings: the host container's user-data, if any, is podguard's
# config.toml. Rulesets: a rules.d directory in the persistent storage
# (written from the admin container: /.bottlerocket/rootfs/local/
# host-containers/podguard/rules.d) replaces the image's.
set -eu

# A process in the host's namespaces: with the host PID namespace, PID 1 is
# the host's systemd.
hostpid=${PODGUARD_HOST_PID:-1}
host=/proc/$hostpid/root
persist=${PODGUARD_PERSIST:-/.bottlerocket/host-containers/current}
root=${PODGUARD_CONTAINER_ROOT:-} # for tests: where this container's / is
bin=${PODGUARD_BIN:-/usr/bin/podguard}

say() { echo "podguard-host-container: $*" >&2; }

# bind SRC DST: bind-mount SRC onto DST, creating DST.
bind() {
	mkdir -p "$2"
	mount -o rbind "$1" "$2"
}

for p in /sys/fs/bpf /sys/fs/cgroup /sys/kernel/tracing /sys/kernel/debug /run/containerd; do
	if [ -d "$host$p" ]; then
		bind "$host$p" "$root$p"
	else
		say "the host has no $p; skipped"
	fi
done

mkdir -p "$persist/state" "$persist/log"
chmod 0700 "$persist/state"
chmod 0750 "$persist/log"
bind "$persist/state" "$root/var/lib/podguard"
bind "$persist/log" "$root/var/log/podguard"
if [ -d "$persist/rules.d" ]; then
	bind "$persist/rules.d" "$root/etc/podguard/rules.d"
fi

set -- "$bin" run
if [ -s "$persist/user-data" ]; then
	set -- "$@" --config "$persist/user-data"
fi
if [ "$(readlink "/proc/$hostpid/ns/net")" != "$(readlink /proc/self/ns/net)" ]; then
	set -- nsenter "--net=/proc/$hostpid/ns/net" -- "$@"
fi
say "starting: $*"
exec "$@"

// Package kernels boots Debian's kernels under qemu and runs podguard's
// probe self-test (./selftest) as the guest's /init, the way cilium/ebpf
// and Tetragon test other kernels.
//
// TestKernels needs root, qemu-system-x86_64, apt-get, dpkg-deb, xz and
// zstd. For each suite in the matrix (bullseye 5.10, bookworm 6.1, trixie
// 6.12, sid) it resolves linux-image-amd64 through a private apt
// configuration (its own sources.list, state and cache under the cache
// directory: the host's apt is untouched), downloads the image package,
// decompresses the bzImage payload into an ELF vmlinux (booted directly
// through its PVH entry, so the guest does not decompress under TCG),
// packs the self-test into a newc initramfs and boots qemu with a
// timeout (bullseye twice: with its default command line, which leaves
// BPF-LSM off, and with lsm=...,bpf); the guest prints one line per check,
// the hook set Load chose (checked against what that command line must
// give) and PODGUARD-SELFTEST PASS or FAIL. The host kernel runs the same
// self-test directly.
//
// Cache: $PODGUARD_KERNEL_CACHE or /var/cache/podguard-kernels. The apt
// lists and each extracted vmlinux are kept; a warm run needs no network.
// $PODGUARD_DEBIAN_MIRROR overrides the mirror (default: the host's
// Debian mirror from /etc/apt, else deb.debian.org).
package kernels

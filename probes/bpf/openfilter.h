// SPDX-License-Identifier: GPL-2.0
// The open prefilter: which opens sys_open emits at all. Userspace
// (probes/openfilter_linux.go) installs the union of what the active rules
// can match; probes/openfilter.go mirrors this predicate in Go, and the two
// must stay in step.
#pragma once

#include "common.h"

#define OPEN_W_FLAGS (01 | 02 | 0100 | 01000) /* O_WRONLY|O_RDWR|O_CREAT|O_TRUNC */
#define OPEN_KEY_DATA 256                    /* LPM_DATA_SIZE_MAX */

/* An LPM trie key: data[0] is the filter generation, the path or basename
 * (prefix) follows, without its NUL. */
struct open_key {
	__u32 prefixlen; /* bits of data that count */
	__u8 data[OPEN_KEY_DATA];
};

struct open_keys {
	struct open_key path;
	struct open_key base;
	__u32 slash; /* index in path.data of the path's last '/' (open_key_match) */
	__u32 _pad;
};

/* gen 0: no filter, every open is emitted (the state after load). Else
 * only trie entries whose data[0] is gen count, so that userspace can
 * fill a new generation beside the old one and switch with one write. */
struct open_filter {
	__u32 gen;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct open_filter);
} open_filter SEC(".maps");

/* OPEN_TRIE declares one of the filter's LPM tries (keys: struct open_key). */
#define OPEN_TRIE(name)                                   \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);      \
		__uint(max_entries, 4096);                \
		__type(key, struct open_key);             \
		__type(value, __u8);                      \
		__uint(map_flags, BPF_F_NO_PREALLOC);     \
	} name SEC(".maps")

OPEN_TRIE(open_prefixes);

OPEN_TRIE(open_basenames);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS); /* one per scratch slot: per program family */
	__type(key, __u32);
	__type(value, struct open_keys);
} open_keys SEC(".maps");

/* open_dirs holds, for each path prefix of the filter, every directory
 * above it ("/", "/etc/", ...; same key layout, with the '/'), and as
 * value the key's length in bytes (generation byte included), so that a
 * lookup can tell an exact match from an ancestor: a directory that leads
 * to a watched path. Filled by userspace with the prefixes. */
OPEN_TRIE(open_dirs);

/* dir_quiet caches directories (dentry, mount) found to hold nothing the
 * filter's path prefixes can match, so that a read-only open in one is
 * judged on its name alone (the basename trie) instead of resolving its
 * whole path. An entry counts only for the filter generation and the
 * directory epoch it was made under. */
struct dir_key {
	__u64 dentry;
	__u64 mnt;
};

struct dir_val {
	__u32 gen;
	__u32 epoch;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct dir_key);
	__type(value, struct dir_val);
} dir_quiet SEC(".maps");

/* dir_epoch changes whenever a watched task may have changed what path a
 * directory has: at the entry and the exit of rename, rmdir/unlinkat and
 * the mount calls (see dir_change). A verdict is stored with the epoch
 * read before its path was resolved, so one made while such a call ran
 * never counts after it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dir_epoch SEC(".maps");

static __always_inline __u32 dir_epoch_now(void)
{
	__u32 zero = 0;
	__u32 *e = bpf_map_lookup_elem(&dir_epoch, &zero);
	return e ? *e : 0;
}

static __always_inline void dir_epoch_bump(void)
{
	__u32 zero = 0;
	__u32 *e = bpf_map_lookup_elem(&dir_epoch, &zero);
	if (e)
		__sync_fetch_and_add(e, 1);
}

/* open_filter_on returns the installed filter generation, 0 for none. */
static __always_inline __u8 open_filter_gen(void)
{
	__u32 zero = 0;
	struct open_filter *f = bpf_map_lookup_elem(&open_filter, &zero);
	return f ? f->gen : 0;
}

/* open_keys_buf is the key buffer of the program family of scratch slot
 * slot (a preempted LSM program and a sys_exit program on its CPU must
 * not share one). */
static __always_inline struct open_keys *open_keys_buf(__u32 slot)
{
	return bpf_map_lookup_elem(&open_keys, &slot);
}

/* open_key_match judges the path in k->path.data[1..n-1] (data[n] its
 * NUL): true when it is too long to judge (>= 254 bytes), relative,
 * ends in '/', or when it or its basename has a prefix in the tries. */
static __always_inline bool open_key_match(struct open_keys *k, long n, __u8 gen)
{
	if (n <= 1 || n >= OPEN_KEY_DATA - 1)
		return true;
	if (k->path.data[1] != '/')
		return true;
	k->path.data[0] = gen;
	k->path.prefixlen = n * 8;
	if (bpf_map_lookup_elem(&open_prefixes, &k->path))
		return true;

	/* the last '/': data[1] is one, so the scan stops there at worst */
	__u64 j = n - 1;
	for (int i = 0; i < OPEN_KEY_DATA - 1; i++) {
		if (k->path.data[bounded(j, OPEN_KEY_DATA - 1)] == '/')
			break;
		j--;
	}
	__u64 len = n - 1 - j; /* basename bytes */
	if (len == 0 || len > OPEN_KEY_DATA - 2)
		return true; /* trailing '/' (or no '/' found, cannot happen) */
	k->slash = j;
	bpf_probe_read_kernel(&k->base.data[1], bounded(len, OPEN_KEY_DATA - 1),
			      &k->path.data[bounded(j + 1, OPEN_KEY_DATA - 1)]);
	k->base.data[0] = gen;
	k->base.prefixlen = (len + 1) * 8;
	return bpf_map_lookup_elem(&open_basenames, &k->base) != NULL;
}

/* open_wanted decides whether a successful open is emitted, on the path
 * the kernel resolved from the opened file (kpath, n bytes with its NUL,
 * in a BPF buffer of at least OPEN_KEY_DATA bytes): with no filter
 * installed, when it asks for writing, when the path was cut (truncated),
 * or when open_key_match says so. A rejected open costs a copy of the
 * resolved path, a backwards scan of its basename and two trie lookups. */
static __always_inline bool open_wanted(__u32 slot, __u64 flags, const __u8 *kpath, long n, bool truncated)
{
	__u8 gen = open_filter_gen();
	if (!gen || (flags & OPEN_W_FLAGS) || truncated)
		return true;
	struct open_keys *k = open_keys_buf(slot);
	if (!k || n >= OPEN_KEY_DATA - 1)
		return true;
	bpf_probe_read_kernel(&k->path.data[1], OPEN_KEY_DATA - 1, kpath);
	return open_key_match(k, n, gen);
}

/* open_wanted_raw is open_wanted for a failed open, which has no file to
 * resolve: it judges the raw user string (resident at exit, the kernel
 * copied it), so a relative path, or one too long to judge, passes. */
static __always_inline bool open_wanted_raw(__u32 slot, __u64 flags, const char *upath)
{
	__u8 gen = open_filter_gen();
	if (!gen || (flags & OPEN_W_FLAGS))
		return true;
	struct open_keys *k = open_keys_buf(slot);
	if (!k)
		return true;
	/* data[1..n-1]: the path, data[n]: its NUL */
	long n = bpf_probe_read_user_str(&k->path.data[1], OPEN_KEY_DATA - 1, upath);
	return open_key_match(k, n, gen);
}

/* dir_quiet_now reports whether the directory (dentry, mnt) is known to
 * hold nothing the path prefixes of filter generation gen match. */
static __always_inline bool dir_quiet_now(void *dentry, void *mnt, __u8 gen)
{
	struct dir_key key = {.dentry = (__u64)dentry, .mnt = (__u64)mnt};
	struct dir_val *v = bpf_map_lookup_elem(&dir_quiet, &key);
	return v && v->gen == gen && v->epoch == dir_epoch_now();
}

/* basename_wanted judges a name alone against the basename trie. */
static __always_inline bool basename_wanted(__u32 slot, const unsigned char *name, __u8 gen)
{
	struct open_keys *k = open_keys_buf(slot);
	if (!k)
		return true;
	long n = bpf_probe_read_kernel_str(&k->base.data[1], OPEN_KEY_DATA - 1, name);
	if (n <= 1 || n >= OPEN_KEY_DATA - 1)
		return true;
	k->base.data[0] = gen;
	k->base.prefixlen = n * 8; /* generation byte + name, without its NUL */
	return bpf_map_lookup_elem(&open_basenames, &k->base) != NULL;
}

/* dir_remember_quiet records the directory (dentry, mnt) of an open that
 * open_wanted just dropped (its path is in k->path, its last '/' at
 * k->slash) as quiet when no path prefix covers "dir/" and "dir/" leads
 * to no path prefix. epoch is dir_epoch_now() from before the path was
 * resolved. */
static __always_inline void dir_remember_quiet(__u32 slot, void *dentry, void *mnt, __u8 gen, __u32 epoch)
{
	struct open_keys *k = open_keys_buf(slot);
	if (!k)
		return;
	__u32 j = k->slash;
	if (j < 1 || j >= OPEN_KEY_DATA - 1)
		return;
	k->path.prefixlen = (j + 1) * 8; /* generation byte + "dir/" */
	if (bpf_map_lookup_elem(&open_prefixes, &k->path))
		return;
	__u8 *exact = bpf_map_lookup_elem(&open_dirs, &k->path);
	if (exact && *exact == j + 1)
		return;
	struct dir_key key = {.dentry = (__u64)dentry, .mnt = (__u64)mnt};
	struct dir_val v = {.gen = gen, .epoch = epoch};
	bpf_map_update_elem(&dir_quiet, &key, &v, BPF_ANY);
}

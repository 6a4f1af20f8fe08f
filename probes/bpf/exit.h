// SPDX-License-Identifier: GPL-2.0
// The syscall exit path: syscalls whose verdict rests on what the kernel
// did (the file an open returned, the address a socket was connected to)
// are stashed at sys_enter by their entry handler and judged at sys_exit,
// where the kernel has copied (and so faulted in) every user argument.
#pragma once

#include "syscall.h"

/* inflight holds the entry arguments of a stashed syscall per thread
 * (pid_tgid) until its sys_exit. LRU: a thread that never reaches
 * sys_exit (cannot happen for these syscalls, but a map must not fill)
 * ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct sc_args);
} inflight SEC(".maps");

/* Which program reported an open or a connect (open_event.via,
 * net_event.via). */
enum report_via {
	VIA_EXIT = 0, /* the syscall's exit (sys_exit) */
	VIA_LSM = 1,  /* a BPF-LSM program, on the object the kernel passed (lsm.h) */
};

/* exit_args is what the exit dispatchers hand to the exit handlers:
 * the stashed entry arguments and the syscall's return value. */
struct exit_args {
	struct sc_args sc;
	__s64 ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exit_args);
} cur_exit SEC(".maps");

/* unreadable counts events that carry FLAG_UNREADABLE, per kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} unreadable SEC(".maps");

static __always_inline struct exit_args *cur_exit_args(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&cur_exit, &zero);
}

/* stash_for_exit keeps the current syscall's arguments for its exit
 * handler. */
static __always_inline void stash_for_exit(struct sc_args *sc)
{
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&inflight, &id, sc, BPF_ANY);
}

/* exit_start is the common start of both exit dispatchers: the stashed
 * entry of this thread's syscall, moved into cur_exit with ret, or NULL
 * (nothing stashed: every unwatched thread and unhandled syscall ends at
 * this one lookup). */
static __always_inline struct exit_args *exit_start(__s64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sc_args *st = bpf_map_lookup_elem(&inflight, &id);
	if (!st)
		return NULL;
	struct exit_args *x = cur_exit_args();
	if (x) {
		x->sc = *st;
		x->ret = ret;
	}
	bpf_map_delete_elem(&inflight, &id);
	return x;
}

static __always_inline void mark_unreadable(struct event_hdr *h)
{
	h->flags |= FLAG_UNREADABLE;
	__u32 k = h->kind & (KIND_MAX - 1);
	__u64 *n = bpf_map_lookup_elem(&unreadable, &k);
	if (n)
		*n += 1;
}

#define FWD_COMPS 32 /* path components resolve_fwd keeps (from the leaf) */

/* fwd_comps holds what resolve_fwd collects: the component name
 * pointers (leaf first) and their count. Kept in the map, not in
 * registers, so that the verifier sees one state per loop iteration. */
struct comps {
	__u64 name[FWD_COMPS];
	__u32 n;
	__u32 done; /* the walk reached the root */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS); /* one per scratch slot */
	__type(key, __u32);
	__type(value, struct comps);
} fwd_comps SEC(".maps");

/* resolve_fwd writes the path of (dentry, vfsmnt) forward ("/etc/shadow",
 * NUL-terminated) at the scratch buffer's buf[base + off]: the dentry
 * walk crosses mounts up to the root of the mount namespace (a
 * container's root file system), not the task's root, so that a chroot
 * (chroot /etc cat /shadow) does not rename what is opened, and
 * "/proc/self/root/...", "..", "//", symlinks and fd reopens all give the
 * one path. A global function (checked once; scalar
 * arguments only, for 5.10). Returns the bytes written including the NUL,
 * | WALK_TRUNCATED when components nearest the root were left out. */
__noinline int resolve_fwd(__u32 slot, __u32 base, __u32 off, __u64 dentry, __u64 vfsmnt)
{
	struct scratch *s = scratch(slot);
	struct comps *c = bpf_map_lookup_elem(&fwd_comps, &slot);
	struct dentry *d = (struct dentry *)dentry;
	struct vfsmount *vm = (struct vfsmount *)vfsmnt;

	if (!s || !c || !d || !vm)
		return 0;
	struct mount *m = (struct mount *)((void *)vm - bpf_core_field_offset(struct mount, mnt));
	c->n = 0;
	c->done = 0;
	for (int i = 0; i < FWD_COMPS + 16; i++) {
		struct dentry *mroot = BPF_CORE_READ(m, mnt.mnt_root);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (d == mroot) {
			struct mount *mp = BPF_CORE_READ(m, mnt_parent);
			if (m == mp) {
				c->done = 1;
				break;
			}
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = mp;
			continue;
		}
		__u32 k = c->n;
		if (k >= FWD_COMPS)
			break;
		c->name[k & (FWD_COMPS - 1)] = (__u64)BPF_CORE_READ(d, d_name.name);
		c->n = k + 1;
		if (d == parent) { /* pseudo file (memfd, pipe): its name is all */
			c->done = 1;
			break;
		}
		d = parent;
	}
	int trunc = c->done ? 0 : WALK_TRUNCATED;
	__u32 n = c->n;
	__u32 start = off;
	if (n == 0) {
		s->buf[bounded(base, 127) + bounded(off, TAIL_MASK)] = '/';
		s->buf[bounded(base, 127) + bounded(off + 1, TAIL_MASK)] = 0;
		return 2 | trunc;
	}
	for (int i = 0; i < FWD_COMPS; i++) {
		if (i >= n)
			break;
		if (off > TAIL_MAX - CHUNK - 1)
			return (off - start + 1) | WALK_TRUNCATED;
		s->buf[bounded(base, 127) + bounded(off, TAIL_MASK)] = '/';
		const char *name = (const char *)c->name[(n - 1 - i) & (FWD_COMPS - 1)];
		long r = bpf_probe_read_kernel_str(&s->buf[bounded(base, 127) + bounded(off + 1, TAIL_MASK)], CHUNK, name);
		/* r counts the NUL, which the next '/' overwrites */
		off = bounded(off + 1 + bounded(r - 1, CHUNK - 1), TAIL_MASK);
	}
	return (off - start + 1) | trunc;
}

/* put_fwd_path writes the forward path of (d, vm) into tail at off; h is
 * the event in scratch slot slot. */
static __always_inline __u32 put_fwd_path(struct event_hdr *h, __u32 slot, __u8 *tail, __u32 off,
					  struct dentry *d, struct vfsmount *vm)
{
	__u32 base = (__u32)((void *)tail - (void *)h);
	int r = resolve_fwd(slot, base, off, (__u64)d, (__u64)vm);
	if (r & WALK_TRUNCATED)
		h->flags |= FLAG_TRUNCATED;
	return r & 0xffff;
}

/* Overlay layers of an opened file (open_event.layer). */
enum file_layer {
	LAYER_NONE = 0,   /* not on overlayfs */
	LAYER_UPPER = 1,  /* only on the upper layer: written in the container */
	LAYER_COPIED = 2, /* upper copy of a lower (image) file */
	LAYER_LOWER = 3,  /* an unmodified image file */
};

static __always_inline __u16 inode_layer(struct inode *inode)
{
	if (BPF_CORE_READ(inode, i_sb, s_magic) != OVERLAYFS_SUPER_MAGIC || !bpf_core_type_exists(struct ovl_inode))
		return LAYER_NONE;
	struct ovl_inode *oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);
	struct dentry *upper = BPF_CORE_READ(oi, __upperdentry);
	struct ovl_entry *oe = BPF_CORE_READ(oi, oe);
	__u32 lower = oe ? BPF_CORE_READ(oe, __numlower) : 0;
	if (!upper)
		return LAYER_LOWER;
	return lower ? LAYER_COPIED : LAYER_UPPER;
}

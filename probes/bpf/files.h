// SPDX-License-Identifier: GPL-2.0
// File syscalls, reached by tail call from raw_tracepoint/sys_enter.
#pragma once

#include "syscall.h"
#include "exit.h"
#include "openfilter.h"

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define AT_REMOVEDIR 0x200

static __always_inline struct file_event *file_start(__u32 kind, __u64 nr)
{
	struct file_event *e = scratch(SCRATCH_SYS);
	if (!e)
		return NULL;
	fill_hdr(&e->hdr, kind);
	e->hdr.syscall_nr = nr;
	e->hdr.flags |= compat_flag();
	e->dirfd = AT_FDCWD;
	e->dirfd2 = AT_FDCWD;
	e->flags = 0;
	e->mode = 0;
	e->path_len = e->base_len = e->path2_len = e->base2_len = 0;
	e->from_fd = 0;
	e->_pad = 0;
	return e;
}

/* file_paths writes path (+ base) and optionally path2 (+ base2). */
static __always_inline void file_emit(void *ctx, struct file_event *e, const char *p1, const char *p2, bool base1)
{
	__u32 off = 0, n;
	n = put_user_str(&e->hdr, e->tail, off, p1);
	e->path_len = n;
	off += n;
	if (base1) {
		n = put_base(&e->hdr, e->tail, off, e->dirfd, p1);
		e->base_len = n;
		off += n;
	}
	if (p2) {
		n = put_user_str(&e->hdr, e->tail, off, p2);
		e->path2_len = n;
		off += n;
		n = put_base(&e->hdr, e->tail, off, e->dirfd2, p2);
		e->base2_len = n;
		off += n;
	}
	emit(ctx, &e->hdr, sizeof(*e), off);
}

/* file_emit_fd emits e for a syscall with no user path (fchmod,
 * ftruncate): the kernel resolves the fd's file. */
static __always_inline void file_emit_fd(void *ctx, struct file_event *e, int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->dirfd = fd;
	e->from_fd = 1;
	__u32 n = put_file_path(&e->hdr, e->tail, 0, task_fd(task, fd));
	e->path_len = n;
	emit(ctx, &e->hdr, sizeof(*e), n);
}

/* sys_open (entry): the open family is judged at exit, on the file the
 * kernel opened (sys_open_exit); the entry only stashes the arguments. */
SEC("raw_tracepoint/sys_enter")
int sys_open(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_OPEN);
	(void)a;
	stash_for_exit(sc);
	return 0;
}

#define EACCES 13
#define EPERM 1
#define ETXTBSY 26
#define ERESTARTSYS 512

/* refused reports a failed open that shows intent whatever the path:
 * permission denied, or a write to a running executable. */
static __always_inline bool refused(__s64 ret)
{
	return ret == -EACCES || ret == -EPERM || ret == -ETXTBSY;
}

/* open_event is KIND_OPEN: the open judged at exit. */
struct open_event {
	struct event_hdr hdr;
	__s32 dirfd;
	__u32 flags;
	__u32 mode;
	__s32 ret;     /* the fd, or -errno of a failed attempt; 0 from LSM (no fd yet) */
	__u64 ino;     /* opened inode (ret >= 0) */
	__u32 dev;     /* its superblock's s_dev (what stat calls st_dev) */
	__u16 layer;   /* enum file_layer */
	__u16 path_len; /* ret >= 0: the resolved path, forward; else the raw string */
	__u16 raw_len;  /* ret >= 0: the raw string passed to the syscall */
	__u16 base_len; /* ret < 0 and a relative raw path: dirfd's or cwd's path, forward */
	__u8 via;       /* enum report_via */
	__u8 _pad[3];
	__u8 tail[];
};

/* open_args decodes the open family's entry arguments; openat2's
 * struct open_how is read now, at exit, where the kernel has copied it. */
static __always_inline const char *open_args(struct sc_args *sc, __s32 *dirfd, __u32 *flags, __u32 *mode)
{
	__u64 *a = sc->a;
	*dirfd = AT_FDCWD;
	switch (sc->nr) {
	case NR_open:
		*flags = a[1];
		*mode = a[2];
		return (const char *)a[0];
	case NR_creat:
		*flags = O_CREAT | O_WRONLY | O_TRUNC;
		*mode = a[1];
		return (const char *)a[0];
	case NR_openat2: {
		struct open_how how = {};
		bpf_probe_read_user(&how, sizeof(how), (void *)a[2]);
		*dirfd = a[0];
		*flags = how.flags;
		*mode = how.mode;
		return (const char *)a[1];
	}
	case NR_open_by_handle_at: /* (mount_fd, handle, flags): no path */
		*dirfd = a[0];
		*flags = a[2];
		*mode = 0;
		return NULL;
	default: /* openat */
		*dirfd = a[0];
		*flags = a[2];
		*mode = a[3];
		return (const char *)a[1];
	}
}

/* dir_change marks, at the entry of a syscall that can change the path of
 * a directory (rename, rmdir, the mount calls), that cached directory
 * verdicts no longer hold (openfilter.h, dir_epoch), and stashes it so
 * that its exit does the same (sys_dir_exit) once the change is made. */
static __always_inline void dir_change(struct sc_args *sc)
{
	switch (sc->nr) {
	case NR_rename:
	case NR_renameat:
	case NR_renameat2:
	case NR_rmdir:
	case NR_unlinkat:
	case NR_mount:
	case NR_umount2:
	case NR_move_mount:
		dir_epoch_bump();
		stash_for_exit(sc);
	}
}

/* sys_dir_exit ends a stashed dir_change syscall: the change is made. */
SEC("raw_tracepoint/sys_exit")
int sys_dir_exit(void *ctx)
{
	dir_epoch_bump();
	return 0;
}

/* open_report judges an open of the stashed syscall sc: a successful one
 * (ret >= 0) on the struct file f the kernel opened: resolved path
 * (forward, for the prefilter), device, inode, overlay layer. A failed
 * open is reported with the raw path, resident now, and the directory it
 * is relative to: always when it was refused (EACCES, EPERM, ETXTBSY: the
 * intent to open what one may not), else when the raw path passes the
 * prefilter (ENOENT of /dev/mem). slot is the caller's scratch slot. */
static __always_inline void open_report(void *ctx, __u32 slot, struct sc_args *sc, __s64 ret, struct file *f, __u8 via)
{
	__s32 dirfd;
	__u32 flags, mode;
	const char *upath = open_args(sc, &dirfd, &flags, &mode);
	if (ret < 0 && !refused(ret) && (!upath || !open_wanted_raw(slot, flags, upath)))
		return;
	struct open_event *e = scratch(slot);
	if (!e)
		return;
	/* The header, inode and layer are read only for an open the filter
	 * keeps: most opens are dropped after the path alone. */
	e->hdr.flags = 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 off = 0;
	struct inode *inode = NULL;
	/* A read-only open in a directory known to hold nothing the path
	 * prefixes match is judged on its name alone (dir_quiet): most opens
	 * of a busy program are, and resolving the path is the costly part. */
	__u8 gen = open_filter_gen();
	bool quietable = gen && !(flags & OPEN_W_FLAGS) && sc->nr != NR_open_by_handle_at;
	__u32 epoch = dir_epoch_now();
	if (ret >= 0 && f) {
		struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
		void *mnt = BPF_CORE_READ(f, f_path.mnt);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (quietable && parent != d && dir_quiet_now(parent, mnt, gen) &&
		    !basename_wanted(slot, BPF_CORE_READ(d, d_name.name), gen))
			return;
		inode = BPF_CORE_READ(f, f_inode);
		off = put_fwd_path(&e->hdr, slot, e->tail, 0, d, mnt);
		if (off > 0 && sc->nr != NR_open_by_handle_at && /* rare, and a rule in itself */
		    !open_wanted(slot, flags, e->tail, off, e->hdr.flags & FLAG_TRUNCATED)) {
			if (quietable && parent != d)
				dir_remember_quiet(slot, parent, mnt, gen, epoch);
			return;
		}
	}
	__u16 walked = e->hdr.flags; /* FLAG_TRUNCATED from the walk */
	fill_hdr(&e->hdr, KIND_OPEN);
	e->hdr.flags |= walked;
	e->hdr.syscall_nr = sc->nr;
	if (sc->compat)
		e->hdr.flags |= FLAG_COMPAT;
	e->dirfd = dirfd;
	e->flags = flags;
	e->mode = mode;
	e->ret = ret;
	e->ino = 0;
	e->dev = 0;
	e->layer = 0;
	e->path_len = e->raw_len = e->base_len = 0;
	e->via = via;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	if (ret >= 0) {
		if (inode) {
			e->ino = BPF_CORE_READ(inode, i_ino);
			e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
			e->layer = inode_layer(inode);
		}
		if (off == 0)
			mark_unreadable(&e->hdr);
		e->path_len = off;
		__u32 n = put_user_str(&e->hdr, e->tail, off, upath);
		e->raw_len = n;
		off += n;
	} else {
		__u32 n = put_user_str(&e->hdr, e->tail, 0, upath);
		if (upath && n == 0)
			mark_unreadable(&e->hdr);
		e->path_len = n;
		off = n;
		char first = '/';
		if (upath)
			bpf_probe_read_user(&first, 1, upath);
		if (first != '/') {
			struct file *df = dirfd == AT_FDCWD ? NULL : task_fd(task, dirfd);
			struct path p;
			if (df) {
				BPF_CORE_READ_INTO(&p, df, f_path);
			} else {
				BPF_CORE_READ_INTO(&p, task, fs, pwd);
			}
			n = put_fwd_path(&e->hdr, slot, e->tail, off, p.dentry, p.mnt);
			e->base_len = n;
			off += n;
		}
	}
	emit(ctx, &e->hdr, sizeof(*e), off);
}

/* sys_open_exit judges an open at its exit, on the file behind the
 * returned fd (open_report). With the LSM hook set, lsm_file_open has
 * judged (and unstashed) every open that reached security_file_open:
 * what is left here are failures and O_PATH opens (no file_open). */
SEC("raw_tracepoint/sys_exit")
int sys_open_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct exit_args *x = cur_exit_args();
	if (!x)
		return 0;
	__s64 ret = x->ret;
	if (ret <= -ERESTARTSYS) /* interrupted: the restart is seen again */
		return 0;
	struct file *f = NULL;
	if (ret >= 0)
		f = task_fd((struct task_struct *)bpf_get_current_task(), (int)ret);
	open_report(ctx, SCRATCH_SYSEXIT, &x->sc, ret, f, VIA_EXIT);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int sys_unlink(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_UNLINK);
	struct file_event *e = file_start(KIND_UNLINK, nr);
	if (!e)
		return 0;
	const char *path = (const char *)a[0];
	if (nr == NR_rmdir) {
		e->flags = AT_REMOVEDIR;
	} else if (nr == NR_unlinkat) {
		e->dirfd = a[0];
		path = (const char *)a[1];
		e->flags = a[2];
	}
	file_emit(ctx, e, path, NULL, true);
	return 0;
}

/* sys_twopath: rename, link and symlink families. */
SEC("raw_tracepoint/sys_enter")
int sys_twopath(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 kind = KIND_RENAME;
	struct sc_args *sc0 = cur_args();
	__u64 nr0 = sc0 ? sc0->nr : 0;
	if (nr0 == NR_link || nr0 == NR_linkat)
		kind = KIND_LINK;
	else if (nr0 == NR_symlink || nr0 == NR_symlinkat)
		kind = KIND_SYMLINK;
	SYSCALL_PROLOGUE(kind);
	struct file_event *e = file_start(kind, nr);
	if (!e)
		return 0;
	const char *p1 = (const char *)a[0], *p2 = (const char *)a[1];
	bool base1 = true;
	switch (nr) {
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		e->dirfd = a[0];
		p1 = (const char *)a[1];
		e->dirfd2 = a[2];
		p2 = (const char *)a[3];
		e->flags = a[4];
		if (nr == NR_renameat)
			e->flags = 0;
		break;
	case NR_symlinkat:
		e->dirfd2 = a[1];
		p2 = (const char *)a[2];
		base1 = false; /* the target is link content, not resolved */
		break;
	case NR_symlink:
		base1 = false;
		break;
	}
	file_emit(ctx, e, p1, p2, base1);
	return 0;
}

/* sys_mode: chmod and mkdir families. */
SEC("raw_tracepoint/sys_enter")
int sys_mode(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 kind = KIND_CHMOD;
	struct sc_args *sc0 = cur_args();
	__u64 nr0 = sc0 ? sc0->nr : 0;
	if (nr0 == NR_mkdir || nr0 == NR_mkdirat)
		kind = KIND_MKDIR;
	SYSCALL_PROLOGUE(kind);
	struct file_event *e = file_start(kind, nr);
	if (!e)
		return 0;
	const char *path = (const char *)a[0];
	switch (nr) {
	case NR_chmod:
	case NR_mkdir:
		e->mode = a[1];
		break;
	case NR_fchmodat:
	case NR_fchmodat2:
	case NR_mkdirat:
		e->dirfd = a[0];
		path = (const char *)a[1];
		e->mode = a[2];
		if (nr == NR_fchmodat2)
			e->flags = a[3];
		break;
	case NR_fchmod:
		e->mode = a[1];
		file_emit_fd(ctx, e, a[0]);
		return 0;
	}
	file_emit(ctx, e, path, NULL, true);
	return 0;
}

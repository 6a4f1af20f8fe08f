// SPDX-License-Identifier: GPL-2.0
// File syscalls, reached by tail call from raw_tracepoint/sys_enter.
#pragma once

#include "syscall.h"
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

SEC("raw_tracepoint/sys_enter")
int sys_open(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_OPEN);
	const char *path;
	__s32 dirfd = AT_FDCWD;
	__u32 flags, mode;
	switch (nr) {
	case NR_open:
		path = (const char *)a[0];
		flags = a[1];
		mode = a[2];
		break;
	case NR_creat:
		path = (const char *)a[0];
		flags = O_CREAT | O_WRONLY | O_TRUNC;
		mode = a[1];
		break;
	case NR_openat2: {
		struct open_how how = {};
		bpf_probe_read_user(&how, sizeof(how), (void *)a[2]);
		dirfd = a[0];
		path = (const char *)a[1];
		flags = how.flags;
		mode = how.mode;
		break;
	}
	default: /* openat */
		dirfd = a[0];
		path = (const char *)a[1];
		flags = a[2];
		mode = a[3];
	}
	if (!open_wanted(flags, path))
		return 0;
	struct file_event *e = file_start(KIND_OPEN, nr);
	if (!e)
		return 0;
	e->dirfd = dirfd;
	e->flags = flags;
	e->mode = mode;
	file_emit(ctx, e, path, NULL, true);
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

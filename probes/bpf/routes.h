// SPDX-License-Identifier: GPL-2.0
// Other routes to effects the rules already judge (issue 14, "every route
// to the same effect is one rule"): clone/clone3 with namespace flags,
// mknod, truncate/ftruncate, the signal syscalls beyond kill, io_uring
// set-up and the io_uring submissions that open, connect or write.
#pragma once

#include "syscall.h"
#include "files.h"

#define CSIGNAL 0xffULL
#define PROC_SUPER_MAGIC 0x9fa0
#define ANON_INODE_FS_MAGIC 0x09041934
#define PIDFS_MAGIC 0x50494446

/* sys_clone: clone(flags, ...) and clone3(struct clone_args *, size).
 * Only calls that create a namespace are events (a plain fork or thread
 * costs the dispatch, nothing more). clone3's flags live in user memory:
 * when they cannot be read at entry the call is reported marked
 * FLAG_UNREADABLE and, under KILL_NAMESPACE, killed: the kernel will
 * fault the page in and create whatever the flags say, and a page the
 * caller never touched must not be a way around the kill. */
SEC("raw_tracepoint/sys_enter")
int sys_clone(struct bpf_raw_tracepoint_args *ctx)
{
	struct sc_args *sc = cur_args();
	if (!sc)
		return 0;
	__u64 nr = sc->nr, *a = sc->a;
	struct watch *w = &sc->w;
	__u64 flags = 0;
	bool unreadable = false;
	if (nr == NR_clone3) {
		if (a[0] && bpf_probe_read_user(&flags, sizeof(flags), (void *)a[0]) != 0) {
			flags = 0;
			unreadable = true;
		}
	} else {
		flags = a[0] & ~CSIGNAL; /* the low byte is the exit signal */
	}
	if (!(flags & CLONE_NS_MASK) && !unreadable)
		return 0;
	bool kill = w->kill & KILL_NAMESPACE;
	if (!kill && !wants(w, KIND_CLONE))
		return 0;
	struct sys_event *e = sys_start(KIND_CLONE, nr);
	if (!e)
		return 0;
	e->arg[0] = flags;
	if (nr == NR_clone3)
		e->arg[1] = a[1]; /* size of clone_args */
	if (unreadable)
		e->hdr.flags |= FLAG_UNREADABLE;
	if (kill_or_want(e, w, kill))
		emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

/* pidfd_pid returns the pid (in the initial pid namespace) behind a
 * pidfd or an fd of a /proc/<pid> directory, the two kinds of fd
 * pidfd_send_signal accepts; 0 for anything else. */
static __always_inline __s32 pidfd_pid(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f = task_fd(task, fd);
	if (!f)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
	struct pid *pid;
	if (magic == PROC_SUPER_MAGIC) {
		struct proc_inode *pi = (void *)ino - bpf_core_field_offset(struct proc_inode, vfs_inode);
		pid = BPF_CORE_READ(pi, pid);
	} else if (magic == PIDFS_MAGIC) { /* 6.9+: the pid hangs off the inode (or, first, the file) */
		pid = BPF_CORE_READ(ino, i_private);
		if (!pid)
			pid = BPF_CORE_READ(f, private_data);
	} else if (magic == ANON_INODE_FS_MAGIC) { /* anon_inode:[pidfd] */
		pid = BPF_CORE_READ(f, private_data);
	} else {
		return 0;
	}
	if (!pid)
		return 0;
	return BPF_CORE_READ(pid, numbers[0].nr);
}

/* sys_signal: the signal syscalls besides kill/tkill/tgkill, recorded as
 * KIND_KILL in the same shape: arg[0] target (tid for
 * rt_tgsigqueueinfo; for pidfd_send_signal the pid behind the pidfd, in
 * the initial pid namespace), arg[1] signal, arg[2] tgid
 * (rt_tgsigqueueinfo), arg[3] the pidfd + 1 (pidfd_send_signal). */
SEC("raw_tracepoint/sys_enter")
int sys_signal(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_KILL);
	struct sys_event *e = sys_start(KIND_KILL, nr);
	if (!e)
		return 0;
	switch (nr) {
	case NR_rt_sigqueueinfo:
		e->arg[0] = a[0];
		e->arg[1] = a[1];
		break;
	case NR_rt_tgsigqueueinfo:
		e->arg[0] = a[1];
		e->arg[1] = a[2];
		e->arg[2] = a[0];
		break;
	default: /* pidfd_send_signal(pidfd, sig, info, flags) */
		e->arg[0] = (__u32)pidfd_pid((int)a[0]);
		e->arg[1] = a[1];
		e->arg[3] = (__u32)a[0] + 1;
	}
	emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

/* sys_mknod: mknod(path, mode, dev), mknodat(dirfd, path, mode, dev);
 * the device number goes in flags. */
SEC("raw_tracepoint/sys_enter")
int sys_mknod(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_MKNOD);
	struct file_event *e = file_start(KIND_MKNOD, nr);
	if (!e)
		return 0;
	const char *path = (const char *)a[0];
	if (nr == NR_mknodat) {
		e->dirfd = a[0];
		path = (const char *)a[1];
		e->mode = a[2];
		e->flags = a[3];
	} else {
		e->mode = a[1];
		e->flags = a[2];
	}
	file_emit(ctx, e, path, NULL, true);
	return 0;
}

/* sys_truncate: truncate(path, length) and ftruncate(fd, length), whose
 * path the kernel resolves from the fd. The length is split over flags
 * (low 32 bits) and mode (high 32 bits). */
SEC("raw_tracepoint/sys_enter")
int sys_truncate(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_TRUNCATE);
	struct file_event *e = file_start(KIND_TRUNCATE, nr);
	if (!e)
		return 0;
	e->flags = (__u32)a[1];
	e->mode = a[1] >> 32;
	if (nr == NR_ftruncate)
		file_emit_fd(ctx, e, a[0]);
	else
		file_emit(ctx, e, (const char *)a[0], NULL, true);
	return 0;
}

/* sys_uring_setup: io_uring_setup(entries, params); arg[0] entries,
 * arg[1] params->flags (FLAG_UNREADABLE when params cannot be read). */
SEC("raw_tracepoint/sys_enter")
int sys_uring_setup(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_IO_URING);
	struct sys_event *e = sys_start(KIND_IO_URING, nr);
	if (!e)
		return 0;
	__u32 fl = 0;
	e->arg[0] = a[0];
	if (bpf_probe_read_user(&fl, sizeof(fl), (void *)a[1] + 8) != 0) /* io_uring_params.flags */
		e->hdr.flags |= FLAG_UNREADABLE;
	e->arg[1] = fl;
	emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

#include "uring.h"

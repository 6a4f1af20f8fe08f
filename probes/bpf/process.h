// SPDX-License-Identifier: GPL-2.0
// Process lifecycle: exec, fork, exit (raw tracepoints on sched_*; exec and
// exit also as tracepoint programs for the tracepoint hook).
#pragma once

#include "common.h"

/* ovl_inode before 6.5 kept its one lower inode itself instead of an
 * ovl_entry (CO-RE flavour for 5.10 - 6.4). */
struct ovl_inode___old {
	struct dentry *__upperdentry;
	struct inode *lower;
} __attribute__((preserve_access_index));

/* ovl_has_lower reports whether the overlay inode at inode (an ovl_inode's
 * vfs_inode) has an entry on a lower (image) layer. */
static __always_inline bool ovl_has_lower(struct inode *inode)
{
	if (bpf_core_field_exists(struct ovl_inode, oe)) {
		struct ovl_inode *oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);
		struct ovl_entry *oe = BPF_CORE_READ(oi, oe);
		return oe && BPF_CORE_READ(oe, __numlower) > 0;
	}
	if (bpf_core_field_exists(struct ovl_inode___old, lower)) {
		struct ovl_inode___old *oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);
		return BPF_CORE_READ(oi, lower) != NULL;
	}
	return true; /* unknown layout: never call an image file drift */
}

static __always_inline struct dentry *ovl_upper(struct inode *inode)
{
	struct ovl_inode *oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);
	return BPF_CORE_READ(oi, __upperdentry);
}

/* is_memfd_name: memfd files are named "memfd:<name>". */
static __always_inline bool is_memfd_name(struct file *f)
{
	char name[6] = {};
	const unsigned char *dn = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	bpf_probe_read_kernel(name, sizeof(name), dn);
	return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
	       name[4] == 'd' && name[5] == ':';
}

/* exe_origin decides where the executed file f comes from, on the file
 * the kernel loaded (never its name or path): see enum exe_origin. Only
 * ORIGIN_IMAGE is an unmodified file of the image; task is the executing
 * task (for its root). */
static __always_inline __u8 exe_origin(struct task_struct *task, struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);
	__u32 nlink = BPF_CORE_READ(inode, __i_nlink);

	if (nlink == 0)
		return is_memfd_name(f) ? ORIGIN_MEMFD : ORIGIN_TMPFILE;
	if (magic == TMPFS_MAGIC)
		return ORIGIN_TMPFS;
	if (magic == OVERLAYFS_SUPER_MAGIC) {
		if (!bpf_core_type_exists(struct ovl_inode))
			return ORIGIN_UNKNOWN;
		if (!ovl_upper(inode))
			return ORIGIN_IMAGE;
		return ovl_has_lower(inode) ? ORIGIN_COPYUP : ORIGIN_UPPER;
	}
	/* Not on an overlay: a volume when the task's root is the
	 * container's overlay; else a runtime (not yet in its root) or a
	 * container without an overlay root, where "image" is unknown. */
	if (BPF_CORE_READ(task, fs, root.mnt, mnt_sb, s_magic) == OVERLAYFS_SUPER_MAGIC)
		return ORIGIN_HOST;
	return ORIGIN_UNKNOWN;
}

/* stdio_inet returns bit n set when fd n (0-2) of task is an inet socket. */
static __always_inline __u8 stdio_inet(struct task_struct *task)
{
	__u8 bits = 0;
	if (is_inet_socket(task_fd(task, 0)))
		bits |= 1;
	if (is_inet_socket(task_fd(task, 1)))
		bits |= 2;
	if (is_inet_socket(task_fd(task, 2)))
		bits |= 4;
	return bits;
}

static __always_inline bool is_tty(struct file *f)
{
	if (!f || (file_mode(f) & S_IFMT) != S_IFCHR)
		return false;
	__u32 major = BPF_CORE_READ(f, f_inode, i_rdev) >> 20;
	return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

/* is_shell matches the comm the kernel set from the executed file name. */
static __always_inline bool is_shell(const __u8 *c)
{
	if (c[0] == 's' && c[1] == 'h' && c[2] == 0)
		return true;
	if (c[0] == 'a' && c[1] == 's' && c[2] == 'h' && c[3] == 0)
		return true;
	if (c[0] == 'k' && c[1] == 's' && c[2] == 'h' && c[3] == 0)
		return true;
	if (c[0] == 'z' && c[1] == 's' && c[2] == 'h' && c[3] == 0)
		return true;
	if (c[0] == 'c' && c[1] == 's' && c[2] == 'h' && c[3] == 0)
		return true;
	if (c[0] == 'b' && c[1] == 'a' && c[2] == 's' && c[3] == 'h' && c[4] == 0)
		return true;
	if (c[0] == 'd' && c[1] == 'a' && c[2] == 's' && c[3] == 'h' && c[4] == 0)
		return true;
	if (c[0] == 't' && c[1] == 'c' && c[2] == 's' && c[3] == 'h' && c[4] == 0)
		return true;
	if (c[0] == 'f' && c[1] == 'i' && c[2] == 's' && c[3] == 'h' && c[4] == 0)
		return true;
	return false;
}

/* on_exec builds the exec event (and kills) for task, which is current,
 * executing exe under the name filename (a kernel string). */
static __always_inline int on_exec(void *ctx, struct task_struct *task, struct file *exe,
				   const char *filename, __u32 old_pid)
{
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!w)
		return 0;

	struct exec_event *e = scratch(SCRATCH_EXEC);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, KIND_EXEC);

	struct file *f0 = task_fd(task, 0);
	struct file *f1 = task_fd(task, 1);
	__u8 origin = exe_origin(task, exe);
	__u8 inet = stdio_inet(task);
	__u16 flags = 0;
	if (is_socket(f0))
		flags |= FLAG_STDIN_SOCK;
	if (is_socket(f1))
		flags |= FLAG_STDOUT_SOCK;
	if (is_tty(f0))
		flags |= FLAG_TTY;
	if (origin == ORIGIN_UPPER || origin == ORIGIN_COPYUP)
		flags |= FLAG_UPPER;
	if (origin == ORIGIN_MEMFD)
		flags |= FLAG_MEMFD;
	if (inet & 3)
		flags |= FLAG_INET_STDIO;
	e->hdr.flags = flags;
	e->origin = origin;
	e->stdio_inet = inet;

	bool kill = false;
	/* drift: anything but an unmodified image file (or unknown) */
	if ((w->kill & KILL_DRIFT) && origin != ORIGIN_IMAGE && origin != ORIGIN_UNKNOWN)
		kill = true;
	if ((w->kill & KILL_MEMFD_EXEC) && origin == ORIGIN_MEMFD)
		kill = true;
	/* reverse shell, by behaviour: stdin and stdout or stderr on an
	 * inet socket, whatever runs; or a shell with either. */
	if ((w->kill & KILL_REVERSE_SHELL) &&
	    (((inet & 1) && (inet & 6)) || ((inet & 3) && is_shell(e->hdr.comm))))
		kill = true;
	if (kill)
		kill_current(&e->hdr);
	else if (!wants(w, KIND_EXEC))
		return 0;

	struct inode *ei = BPF_CORE_READ(exe, f_inode);
	e->exe_dev = BPF_CORE_READ(ei, i_sb, s_dev);
	e->exe_ino = BPF_CORE_READ(ei, i_ino);
	e->exe_nlink = BPF_CORE_READ(ei, __i_nlink);
	e->args_truncated = 0;
	e->_pad = 0;
	e->euid = BPF_CORE_READ(task, cred, euid.val);
	e->egid = BPF_CORE_READ(task, cred, egid.val);
	e->old_pid = old_pid;

	__u32 off = 0, n;
	n = put_file_path(&e->hdr, e->tail, off, exe);
	e->exe_len = n;
	off += n;
	n = put_kernel_str(&e->hdr, e->tail, off, filename);
	e->filename_len = n;
	off += n;

	struct path pwd;
	BPF_CORE_READ_INTO(&pwd, task, fs, pwd);
	n = put_path(&e->hdr, e->tail, off, pwd.dentry, pwd.mnt);
	e->cwd_len = n;
	off += n;

	/* argv last: it may be up to ARGS_MAX bytes beyond TAIL_MAX. */
	unsigned long as = BPF_CORE_READ(task, mm, arg_start);
	unsigned long ae = BPF_CORE_READ(task, mm, arg_end);
	__u32 alen = 0;
	if (ae > as) {
		unsigned long l = ae - as;
		if (l > ARGS_MAX) {
			l = ARGS_MAX;
			e->hdr.flags |= FLAG_TRUNCATED;
			e->args_truncated = 1;
		}
		alen = l;
		if (off > TAIL_MAX)
			alen = 0;
		else if (alen > 0 && alen <= ARGS_MAX &&
			 bpf_probe_read_user(e->tail + bounded(off, TAIL_MASK), alen, (void *)as) != 0)
			alen = 0;
	}
	e->args_len = alen;
	off += alen;
	emit(ctx, &e->hdr, sizeof(*e), off);
	return 0;
}

SEC("raw_tracepoint/sched_process_exec")
int sched_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	return on_exec(ctx, (struct task_struct *)ctx->args[0], BPF_CORE_READ(bprm, file),
		       BPF_CORE_READ(bprm, filename), (__u32)ctx->args[1]);
}

/* The sched:sched_process_exec record a tracepoint program gets
 * (/sys/kernel/tracing/events/sched/sched_process_exec/format). */
struct sched_exec_record {
	__u64 common;
	__u32 filename_loc; /* __data_loc char[]: offset | length << 16 */
	__s32 pid;
	__s32 old_pid;
};

/* sched_exec_tp is sched_exec as a tracepoint (perf event) program, used
 * with the tracepoint hook (see sys_enter_tp): the perf handler runs it
 * with preemption disabled. The record has no bprm; the new image is
 * already the task's mm->exe_file (set_mm_exe_file in begin_new_exec). */
SEC("tracepoint/sched/sched_process_exec")
int sched_exec_tp(struct sched_exec_record *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 loc = ctx->filename_loc & 0xffff;
	/* the string sits in the record: an address, not a ctx access */
	const char *filename = (const char *)((__u64)ctx + loc);
	return on_exec(ctx, task, BPF_CORE_READ(task, mm, exe_file), filename, ctx->old_pid);
}

SEC("raw_tracepoint/sched_process_fork")
int sched_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!wants(w, KIND_FORK))
		return 0;
	__u32 cpid = BPF_CORE_READ(child, pid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid) /* a new thread, not a process */
		return 0;
	struct sys_event *e = scratch(SCRATCH_FORK);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, KIND_FORK);
	e->nr = 0;
	e->arg[0] = cpid;
	e->arg[1] = 0;
	e->arg[2] = 0;
	e->arg[3] = 0;
	e->str_len[0] = e->str_len[1] = e->str_len[2] = 0;
	emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

static __always_inline int on_exit(void *ctx, struct task_struct *task)
{
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!wants(w, KIND_EXIT))
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((__u32)pid_tgid != (pid_tgid >> 32)) /* a thread, not the process */
		return 0;
	struct sys_event *e = scratch(SCRATCH_EXIT);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, KIND_EXIT);
	e->nr = 0;
	e->arg[0] = BPF_CORE_READ(task, exit_code);
	e->arg[1] = 0;
	e->arg[2] = 0;
	e->arg[3] = 0;
	e->str_len[0] = e->str_len[1] = e->str_len[2] = 0;
	emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int sched_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_exit(ctx, (struct task_struct *)ctx->args[0]);
}

/* sched_exit_tp is sched_exit as a tracepoint program (see sched_exec_tp);
 * the exiting task is current. */
SEC("tracepoint/sched/sched_process_exit")
int sched_exit_tp(void *ctx)
{
	return on_exit(ctx, (struct task_struct *)bpf_get_current_task());
}

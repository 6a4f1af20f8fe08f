// SPDX-License-Identifier: GPL-2.0
// Process lifecycle: exec, fork, exit (raw tracepoints on sched_*; exec and
// exit also as tracepoint programs for the tracepoint hook).
#pragma once

#include "common.h"

/* exe_on_upper reports whether the executed file exists only on the
 * overlayfs upper layer (written inside the container, not from an image
 * layer): an ovl inode with an upper dentry and no lower entries. */
static __always_inline bool exe_on_upper(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);

	if (magic != OVERLAYFS_SUPER_MAGIC)
		return false;
	if (!bpf_core_type_exists(struct ovl_inode))
		return false;
	struct ovl_inode *oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);
	struct dentry *upper = BPF_CORE_READ(oi, __upperdentry);
	if (!upper)
		return false;
	struct ovl_entry *oe = BPF_CORE_READ(oi, oe);
	if (!oe)
		return true;
	return BPF_CORE_READ(oe, __numlower) == 0;
}

/* exe_is_memfd: memfd files are named "memfd:<name>" and have no links. */
static __always_inline bool exe_is_memfd(struct file *f)
{
	char name[6] = {};
	const unsigned char *dn = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	bpf_probe_read_kernel(name, sizeof(name), dn);
	if (name[0] != 'm' || name[1] != 'e' || name[2] != 'm' || name[3] != 'f' ||
	    name[4] != 'd' || name[5] != ':')
		return false;
	return BPF_CORE_READ(f, f_inode, __i_nlink) == 0;
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
	__u16 flags = 0;
	if (is_socket(f0))
		flags |= FLAG_STDIN_SOCK;
	if (is_socket(f1))
		flags |= FLAG_STDOUT_SOCK;
	if (is_tty(f0))
		flags |= FLAG_TTY;
	if (exe_on_upper(exe))
		flags |= FLAG_UPPER;
	if (exe_is_memfd(exe))
		flags |= FLAG_MEMFD;
	if (is_inet_socket(f0) || is_inet_socket(f1))
		flags |= FLAG_INET_STDIO;
	e->hdr.flags = flags;

	bool kill = false;
	if ((w->kill & KILL_DRIFT) && (flags & FLAG_UPPER))
		kill = true;
	if ((w->kill & KILL_MEMFD_EXEC) && (flags & FLAG_MEMFD))
		kill = true;
	if ((w->kill & KILL_REVERSE_SHELL) && (flags & FLAG_INET_STDIO) && is_shell(e->hdr.comm))
		kill = true;
	if (kill)
		kill_current(&e->hdr);
	else if (!wants(w, KIND_EXEC))
		return 0;

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

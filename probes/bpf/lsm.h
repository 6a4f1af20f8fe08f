// SPDX-License-Identifier: GPL-2.0
// The BPF-LSM hook set: on kernels with BPF-LSM (CONFIG_BPF_LSM and "bpf"
// in the lsm= list), opens and connects are judged on the objects the
// kernel hands its security hooks, before the syscall goes on: the struct
// file security_file_open checks (not the file an fd number points to by
// the time the syscall returns: another thread may have closed or dup2'd
// over it), and the kernel's own copy of a connect's sockaddr.
//
// The entry handlers (sys_open, sys_connect) still stash the syscall's
// arguments; a hook reports the open or connect of a stashed syscall with
// the same record the exit handler would make (open_report,
// connect_report, marked VIA_LSM) and unstashes it, so sys_exit does not
// report it again. What never reaches the hook stays stashed and is judged
// at exit as before: failed opens (ENOENT, EACCES: the attempts), O_PATH
// opens (no file_open), sendto/sendmsg with an address (no
// socket_connect), a connect whose address could not be copied in. A run
// the kernel skips (recursion_misses on a preemptible kernel) leaves its
// syscall stashed too: nothing is lost by using the hooks.
//
// Only a stashed syscall is reported: an exec opening its binary, the
// kernel opening files for itself, overlayfs opening the real file behind
// one already judged (its file_open comes after the overlay file's, from
// the same syscall, which is unstashed by then) and io_uring's requests
// (uring.h) are not opens of the open family. A file on a mount outside
// the task's mount namespace is left to the exit (in_task_mntns).
//
// The programs are loaded as LSM programs only when the loader chose this
// hook set; where BPF-LSM is not active but BPF trampolines are, as fentry
// programs on security_file_open and security_socket_connect (the same
// arguments, and they return 0 as fentry programs must: the fentry hook
// set); otherwise as raw tracepoint programs that are never attached (the
// object's program set is fixed). They read their context
// and every kernel object with CO-RE reads, which both program types
// allow. They always return 0 (allow): denying is not implemented.
#pragma once

#include "files.h"
#include "net.h"

static __always_inline bool is_open_nr(__u64 nr)
{
	return nr == NR_open || nr == NR_openat || nr == NR_openat2 || nr == NR_creat || nr == NR_open_by_handle_at;
}

/* in_task_mntns reports whether f is on a mount of the current task's
 * mount namespace. The private mounts of overlayfs's layers are not (a
 * backing file overlayfs opens for the file the task opened, such as an
 * O_TMPFILE's upper file), nor is another namespace's mount reached
 * through /proc/<pid>/root: those are left to the exit, which judges
 * the file the fd refers to. */
static __always_inline bool in_task_mntns(struct file *f)
{
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	struct mount *m = (struct mount *)((void *)vm - bpf_core_field_offset(struct mount, mnt));
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(m, mnt_ns) == BPF_CORE_READ(task, nsproxy, mnt_ns);
}

/* lsm_file_open: security_file_open(struct file *file). */
SEC("lsm/file_open")
int lsm_file_open(__u64 *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sc_args *sc = bpf_map_lookup_elem(&inflight, &id);
	if (!sc || !is_open_nr(sc->nr) || !in_task_mntns((struct file *)ctx[0]))
		return 0;
	open_report(ctx, SCRATCH_LSM, sc, 0, (struct file *)ctx[0], VIA_LSM);
	bpf_map_delete_elem(&inflight, &id);
	return 0;
}

/* lsm_socket_connect: security_socket_connect(struct socket *sock,
 * struct sockaddr *address, int addrlen), address being the kernel's
 * copy. */
SEC("lsm/socket_connect")
int lsm_socket_connect(__u64 *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sc_args *sc = bpf_map_lookup_elem(&inflight, &id);
	if (!sc || sc->nr != NR_connect)
		return 0;
	connect_report(ctx, SCRATCH_LSM, sc, 0, (struct socket *)ctx[0], (void *)ctx[1], (__u32)ctx[2], false, VIA_LSM);
	bpf_map_delete_elem(&inflight, &id);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
// Privilege and escape syscalls: ptrace, modules, namespaces, mounts,
// id changes, memfd_create, signals, bpf.
#pragma once

#include "syscall.h"

#define CLONE_NS_MASK 0x7E020080ULL /* NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME */
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_ATTACH 16
#define PTRACE_SEIZE 0x4206

/* kill_or_want: the event is emitted when the kind is wanted or the task
 * was killed (a kill is never silent). */
static __always_inline int kill_or_want(struct sys_event *e, struct watch *w, bool kill)
{
	if (kill) {
		kill_current(&e->hdr);
		return 1;
	}
	return wants(w, e->hdr.kind);
}

SEC("raw_tracepoint/sys_enter")
int sys_ptrace(struct bpf_raw_tracepoint_args *ctx)
{
	struct sc_args *sc = cur_args();
	if (!sc)
		return 0;
	__u64 nr = sc->nr, *a = sc->a;
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!w)
		return 0;
	__u64 req = a[0];
	bool kill = (w->kill & KILL_PTRACE) &&
		    (req == PTRACE_ATTACH || req == PTRACE_SEIZE || req == PTRACE_POKETEXT ||
		     req == PTRACE_POKEDATA || req == PTRACE_POKEUSR);
	if (!kill && !wants(w, KIND_PTRACE))
		return 0;
	struct sys_event *e = sys_start(KIND_PTRACE, nr);
	if (!e)
		return 0;
	e->arg[0] = req;
	e->arg[1] = a[1];
	e->arg[2] = a[2];
	if (kill_or_want(e, w, kill))
		emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

/* sys_module: init_module(umod, len, uargs) / finit_module(fd, uargs, flags).
 * This hook is the only view of module loads on kernels without
 * CONFIG_MODULES, where the syscalls/ tracepoints do not exist. */
SEC("raw_tracepoint/sys_enter")
int sys_module(struct bpf_raw_tracepoint_args *ctx)
{
	struct sc_args *sc = cur_args();
	if (!sc)
		return 0;
	__u64 nr = sc->nr, *a = sc->a;
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!w)
		return 0;
	bool kill = w->kill & KILL_MODULE;
	if (!kill && !wants(w, KIND_MODULE))
		return 0;
	struct sys_event *e = sys_start(KIND_MODULE, nr);
	if (!e)
		return 0;
	const char *params;
	if (nr == NR_init_module) {
		e->arg[1] = a[1]; /* image length */
		params = (const char *)a[2];
	} else {
		e->arg[0] = a[0]; /* fd */
		e->arg[2] = a[2]; /* flags */
		params = (const char *)a[1];
	}
	kill_or_want(e, w, kill);
	__u32 n = put_user_str(&e->hdr, e->tail, 0, params);
	e->str_len[0] = n;
	emit(ctx, &e->hdr, sizeof(*e), n);
	return 0;
}

/* sys_ns: unshare(flags) and setns(fd, nstype). */
SEC("raw_tracepoint/sys_enter")
int sys_ns(struct bpf_raw_tracepoint_args *ctx)
{
	struct sc_args *sc = cur_args();
	if (!sc)
		return 0;
	__u64 nr = sc->nr, *a = sc->a;
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!w)
		return 0;
	__u32 kind = nr == NR_setns ? KIND_SETNS : KIND_UNSHARE;
	bool ns = nr == NR_setns || (a[0] & CLONE_NS_MASK);
	bool kill = (w->kill & KILL_NAMESPACE) && ns;
	if (!kill && !wants(w, kind))
		return 0;
	struct sys_event *e = sys_start(kind, nr);
	if (!e)
		return 0;
	if (nr == NR_setns) {
		e->arg[0] = a[1]; /* nstype */
		e->arg[1] = a[0]; /* fd */
	} else {
		e->arg[0] = a[0]; /* flags */
	}
	if (kill_or_want(e, w, kill))
		emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

/* sys_numeric: syscalls whose interesting arguments are all integers. */
SEC("raw_tracepoint/sys_enter")
int sys_numeric(struct bpf_raw_tracepoint_args *ctx)
{
	struct sc_args *sc0 = cur_args();
	__u64 nr0 = sc0 ? sc0->nr : 0;
	__u32 kind;
	switch (nr0) {
	case NR_process_vm_writev:
		kind = KIND_VM_WRITE;
		break;
	case NR_bpf:
		kind = KIND_BPF;
		break;
	case NR_kill:
	case NR_tkill:
	case NR_tgkill:
		kind = KIND_KILL;
		break;
	case NR_fsmount:
		kind = KIND_MOUNT;
		break;
	default:
		kind = KIND_SETID;
	}
	SYSCALL_PROLOGUE(kind);
	struct sys_event *e = sys_start(kind, nr);
	if (!e)
		return 0;
	switch (nr) {
	case NR_kill:
	case NR_tkill:
		e->arg[0] = a[0]; /* pid */
		e->arg[1] = a[1]; /* signal */
		break;
	case NR_tgkill:
		e->arg[0] = a[1]; /* tid */
		e->arg[1] = a[2]; /* signal */
		e->arg[2] = a[0]; /* tgid */
		break;
	default:
		e->arg[0] = a[0];
		e->arg[1] = a[1];
		e->arg[2] = a[2];
	}
	emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

/* sys_mount: mount(source, target, fstype, flags), move_mount(from_dfd,
 * from_path, to_dfd, to_path, flags), umount2(target, flags), and the
 * rest of the new mount API: fsopen(fstype, flags) (the only call that
 * names the file system type: the mount rules judge it there),
 * fsconfig(fd, cmd, key, value, aux) (key in the target slot, a string
 * or path value in the source slot), open_tree(dfd, path, flags) (path
 * in the source slot) and fspick(dfd, path, flags) (path in the target
 * slot). */
SEC("raw_tracepoint/sys_enter")
int sys_mount(struct bpf_raw_tracepoint_args *ctx)
{
	struct sc_args *sc0 = cur_args();
	__u32 kind = sc0 && sc0->nr == NR_umount2 ? KIND_UMOUNT : KIND_MOUNT;
	SYSCALL_PROLOGUE(kind);
	struct sys_event *e = sys_start(kind, nr);
	if (!e)
		return 0;
	const char *s0 = NULL, *s1 = NULL, *s2 = NULL;
	switch (nr) {
	case NR_mount:
		s0 = (const char *)a[0];
		s1 = (const char *)a[1];
		s2 = (const char *)a[2];
		e->arg[0] = a[3];
		break;
	case NR_move_mount:
		s0 = (const char *)a[1];
		s1 = (const char *)a[3];
		e->arg[0] = a[4];
		e->arg[1] = a[0];
		e->arg[2] = a[2];
		break;
	case NR_fsopen:
		s2 = (const char *)a[0];
		e->arg[0] = a[1];
		break;
	case NR_fsconfig:
		s1 = (const char *)a[2];
		if (a[1] == FSCONFIG_SET_STRING || a[1] == FSCONFIG_SET_PATH || a[1] == FSCONFIG_SET_PATH_EMPTY)
			s0 = (const char *)a[3];
		e->arg[0] = a[1];
		e->arg[1] = a[0];
		e->arg[2] = a[4];
		break;
	case NR_open_tree:
		s0 = (const char *)a[1];
		e->arg[0] = a[2];
		e->arg[1] = a[0];
		break;
	case NR_fspick:
		s1 = (const char *)a[1];
		e->arg[0] = a[2];
		e->arg[1] = a[0];
		break;
	default: /* umount2 */
		s1 = (const char *)a[0];
		e->arg[0] = a[1];
	}
	__u32 off = 0, n;
	n = put_user_str(&e->hdr, e->tail, off, s0);
	e->str_len[0] = n;
	off += n;
	n = put_user_str(&e->hdr, e->tail, off, s1);
	e->str_len[1] = n;
	off += n;
	n = put_user_str(&e->hdr, e->tail, off, s2);
	e->str_len[2] = n;
	off += n;
	emit(ctx, &e->hdr, sizeof(*e), off);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int sys_memfd(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_MEMFD);
	struct sys_event *e = sys_start(KIND_MEMFD, nr);
	if (!e)
		return 0;
	e->arg[0] = a[1]; /* flags */
	__u32 n = put_user_str(&e->hdr, e->tail, 0, (const char *)a[0]);
	e->str_len[0] = n;
	emit(ctx, &e->hdr, sizeof(*e), n);
	return 0;
}

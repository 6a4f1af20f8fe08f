// SPDX-License-Identifier: GPL-2.0
// podguard kernel probes: one compilation unit, one event buffer (a ring
// buffer, or a perf event array when built with -DPG_PERFBUF).
//
// Syscalls are seen through a single raw_tracepoint on raw_syscalls:sys_enter
// that drops events from unwatched cgroups and tail-calls the handler for
// the syscall number (the loader fills syscall_progs). Process lifecycle
// uses raw tracepoints on sched_process_{exec,fork,exit}.

#include "common.h"
#include "syscall.h"
#include "process.h"
#include "files.h"
#include "net.h"
#include "privilege.h"
#include "cgroups.h"
#include "routes.h"
#include "lsm.h"

#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} syscall_progs SEC(".maps");

/* ia32 syscall number -> x86_64 number (0: not handled). Filled by the
 * loader from the same table as syscall_progs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} ia32_nr SEC(".maps");

/* struct pt_regs from r10 to di (x86_64). */
struct arg_regs {
	__u64 r10, r9, r8, ax, cx, dx, si, di;
};
_Static_assert(__builtin_offsetof(struct pt_regs, di) - __builtin_offsetof(struct pt_regs, r10) ==
		       __builtin_offsetof(struct arg_regs, di),
	       "pt_regs layout");

#define IA32_UMOUNT 22
#define IA32_SOCKETCALL 102
#define SYS_SOCKET 1
#define SYS_CONNECT 3

/* syscall_progs_tp is syscall_progs for the tracepoint dispatcher
 * (sys_enter_tp): a program array holds programs of one type, so the
 * loader fills one or the other, with the same handlers loaded as raw
 * tracepoint or as tracepoint programs. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} syscall_progs_tp SEC(".maps");

/* compat_args normalizes an ia32 syscall in sc (arguments already in
 * sc->a, in the order bx, cx, dx, si, di, bp): 32-bit values, socketcall
 * unpacked for socket and connect, the x86_64 number in sc->nr. Returns
 * false for syscalls podguard does not handle. */
static __always_inline bool compat_args(__u64 nr, struct sc_args *sc)
{
	for (int i = 0; i < 6; i++)
		sc->a[i] = (__u32)sc->a[i];
	if (nr == IA32_SOCKETCALL) {
		__u32 args[3] = {};
		__u64 call = sc->a[0];
		if (call != SYS_SOCKET && call != SYS_CONNECT)
			return false;
		bpf_probe_read_user(args, sizeof(args), (void *)sc->a[1]);
		sc->a[0] = args[0];
		sc->a[1] = args[1];
		sc->a[2] = args[2];
		sc->nr = call == SYS_SOCKET ? NR_socket : NR_connect;
		return true;
	}
	__u32 key = nr;
	__u32 *n64 = bpf_map_lookup_elem(&ia32_nr, &key);
	if (!n64 || !*n64)
		return false;
	if (nr == IA32_UMOUNT) /* umount(name): umount2 without flags */
		sc->a[1] = 0;
	sc->nr = *n64;
	return true;
}

static __always_inline bool task_compat(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, thread_info.status) & TS_COMPAT;
}

/* handled_nrs has a bit for every syscall number a handler exists for:
 * the x86_64 numbers and the ia32 ones (a superset for any one task is
 * fine: the dispatch finds no handler for the rest). Set by the loader,
 * so the dispatchers drop every other syscall (close, read, ...) before
 * any helper call, watched cgroup or not. */
volatile const __u64 handled_nrs[NR_MAX / 64] = {};

static __always_inline bool handled(__u64 nr)
{
	return handled_nrs[(nr >> 6) & (NR_MAX / 64 - 1)] & (1ULL << (nr & 63));
}

/* dispatch_start is the common start of both dispatchers: a syscall with
 * a handler, from a watched cgroup, gets the per-CPU args slot with the
 * cgroup's watch entry and the syscall number filled in; any other gets
 * NULL. */
static __always_inline struct sc_args *dispatch_start(__u64 nr)
{
	if (nr >= NR_MAX || !handled(nr))
		return NULL;
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!w)
		return NULL;
	struct sc_args *sc = cur_args();
	if (!sc)
		return NULL;
	sc->w = *w;
	sc->nr = nr;
	return sc;
}

/* sys_enter dispatches every syscall of a watched cgroup to its handler
 * in syscall_progs. It is the default hook. */
SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	struct sc_args *sc = dispatch_start(nr);
	if (!sc)
		return 0;
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	if (task_compat()) {
		sc->compat = 1;
		sc->a[0] = BPF_CORE_READ(regs, bx);
		sc->a[1] = BPF_CORE_READ(regs, cx);
		sc->a[2] = BPF_CORE_READ(regs, dx);
		sc->a[3] = BPF_CORE_READ(regs, si);
		sc->a[4] = BPF_CORE_READ(regs, di);
		sc->a[5] = BPF_CORE_READ(regs, bp);
		if (!compat_args(nr, sc))
			return 0;
	} else {
		/* One read of the argument registers instead of one per
		 * register: eight words from regs->r10 (CO-RE relocated) up to
		 * di, an order x86_64's struct pt_regs has always had
		 * (_Static_assert above). Every helper call counts here: this
		 * runs for every syscall of a watched cgroup. */
		struct arg_regs r = {};
		bpf_probe_read_kernel(&r, sizeof(r), &regs->r10);
		sc->compat = 0;
		sc->a[0] = r.di;
		sc->a[1] = r.si;
		sc->a[2] = r.dx;
		sc->a[3] = r.r10;
		sc->a[4] = r.r8;
		sc->a[5] = r.r9;
	}
	dir_change(sc);
	bpf_tail_call(ctx, &syscall_progs, (__u32)sc->nr);
	return 0;
}

/* The raw_syscalls:sys_enter record a tracepoint program gets
 * (/sys/kernel/tracing/events/raw_syscalls/sys_enter/format). */
struct sys_enter_record {
	__u64 common; /* type, flags, preempt_count, pid */
	long id;
	unsigned long args[6]; /* syscall_get_arguments: ia32 order for compat */
};

/* sys_enter_tp is sys_enter as a tracepoint (perf event) program, for
 * kernels whose syscall tracepoints run raw tracepoint programs with
 * preemption enabled (see the loader): the perf handler of
 * raw_syscalls:sys_enter runs its programs with preemption disabled, so
 * one preempted run cannot make the kernel skip the runs of other tasks
 * on that CPU. */
SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter_tp(struct sys_enter_record *ctx)
{
	__u64 nr = ctx->id;
	struct sc_args *sc = dispatch_start(nr);
	if (!sc)
		return 0;
	for (int i = 0; i < 6; i++)
		sc->a[i] = ctx->args[i];
	if (task_compat()) {
		sc->compat = 1;
		if (!compat_args(nr, sc))
			return 0;
	} else {
		sc->compat = 0;
	}
	dir_change(sc);
	bpf_tail_call(ctx, &syscall_progs_tp, (__u32)sc->nr);
	return 0;
}

/* exit_progs (raw tracepoint) and exit_progs_tp (tracepoint) map a
 * stashed syscall's x86_64 number to its exit handler; the loader fills
 * the one that matches the hook, like syscall_progs. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} exit_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} exit_progs_tp SEC(".maps");

/* sys_exit runs the exit handler of a syscall its entry handler stashed
 * (exit.h); for every other syscall it costs one hash lookup. */
SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct exit_args *x = exit_start((__s64)ctx->args[1]);
	if (!x)
		return 0;
	bpf_tail_call(ctx, &exit_progs, (__u32)x->sc.nr);
	return 0;
}

/* The raw_syscalls:sys_exit record a tracepoint program gets. */
struct sys_exit_record {
	__u64 common;
	long id;
	long ret;
};

/* sys_exit_tp is sys_exit as a tracepoint program (see sys_enter_tp):
 * syscalls without an entry handler end before any helper call. */
SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit_tp(struct sys_exit_record *ctx)
{
	__u64 nr = ctx->id;
	if (nr >= NR_MAX || !handled(nr))
		return 0;
	struct exit_args *x = exit_start(ctx->ret);
	if (!x)
		return 0;
	bpf_tail_call(ctx, &exit_progs_tp, (__u32)x->sc.nr);
	return 0;
}

/* Anchor the wire types so bpf2go -type can emit their Go twins. */
struct event_hdr *unused_hdr __attribute__((unused));
struct exec_event *unused_exec __attribute__((unused));
struct file_event *unused_file __attribute__((unused));
struct net_event *unused_net __attribute__((unused));
struct open_event *unused_open __attribute__((unused));
struct sys_event *unused_sys __attribute__((unused));
struct budget *unused_budget __attribute__((unused));
struct uring_event *unused_uring __attribute__((unused));

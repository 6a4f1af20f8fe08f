// SPDX-License-Identifier: GPL-2.0
// podguard kernel probes: one compilation unit, one ring buffer.
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

#define TS_COMPAT 0x0002 /* arch/x86/include/asm/thread_info.h */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u32);
} syscall_progs SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	if (nr >= NR_MAX)
		return 0;
	if (!watch_for(bpf_get_current_cgroup_id()))
		return 0;
	/* ia32 syscalls (int 0x80, 32-bit tasks) use another numbering:
	 * not decoded yet, skip rather than misreport. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, thread_info.status) & TS_COMPAT)
		return 0;
	bpf_tail_call(ctx, &syscall_progs, (__u32)nr);
	return 0;
}

/* Anchor the wire types so bpf2go -type can emit their Go twins. */
struct event_hdr *unused_hdr __attribute__((unused));
struct exec_event *unused_exec __attribute__((unused));
struct file_event *unused_file __attribute__((unused));
struct net_event *unused_net __attribute__((unused));
struct sys_event *unused_sys __attribute__((unused));

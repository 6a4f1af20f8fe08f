// SPDX-License-Identifier: GPL-2.0
// Syscall dispatch helpers: x86_64 numbers and argument access.
#pragma once

#include "common.h"

#ifndef __TARGET_ARCH_x86
#error "podguard probes read syscall arguments from x86_64 pt_regs only"
#endif

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
enum {
	NR_open = 2,
	NR_dup = 32,
	NR_dup2 = 33,
	NR_socket = 41,
	NR_connect = 42,
	NR_sendto = 44,
	NR_sendmsg = 46,
	NR_clone = 56,
	NR_kill = 62,
	NR_fcntl = 72,
	NR_truncate = 76,
	NR_ftruncate = 77,
	NR_rename = 82,
	NR_mkdir = 83,
	NR_rmdir = 84,
	NR_creat = 85,
	NR_link = 86,
	NR_unlink = 87,
	NR_symlink = 88,
	NR_chmod = 90,
	NR_fchmod = 91,
	NR_ptrace = 101,
	NR_setuid = 105,
	NR_setgid = 106,
	NR_setreuid = 113,
	NR_setregid = 114,
	NR_setresuid = 117,
	NR_setresgid = 119,
	NR_setfsuid = 122,
	NR_setfsgid = 123,
	NR_rt_sigqueueinfo = 129,
	NR_mknod = 133,
	NR_mount = 165,
	NR_umount2 = 166,
	NR_init_module = 175,
	NR_tkill = 200,
	NR_tgkill = 234,
	NR_openat = 257,
	NR_mkdirat = 258,
	NR_mknodat = 259,
	NR_unlinkat = 263,
	NR_renameat = 264,
	NR_linkat = 265,
	NR_symlinkat = 266,
	NR_fchmodat = 268,
	NR_unshare = 272,
	NR_open_by_handle_at = 304,
	NR_dup3 = 292,
	NR_rt_tgsigqueueinfo = 297,
	NR_setns = 308,
	NR_process_vm_writev = 311,
	NR_finit_module = 313,
	NR_renameat2 = 316,
	NR_memfd_create = 319,
	NR_bpf = 321,
	NR_pidfd_send_signal = 424,
	NR_io_uring_setup = 425,
	NR_open_tree = 428,
	NR_move_mount = 429,
	NR_fsopen = 430,
	NR_fsconfig = 431,
	NR_fsmount = 432,
	NR_fspick = 433,
	NR_clone3 = 435,
	NR_openat2 = 437,
	NR_fchmodat2 = 452,
	NR_MAX = 512,
};

#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030

/* The dispatcher (probes.c) normalizes every syscall before the tail
 * call: nr is the x86_64 number (ia32 calls are translated), a[] the six
 * arguments from the registers of the calling convention. */
struct sc_args {
	__u64 nr;
	__u64 a[6];
	__u32 compat; /* 1: ia32 syscall (int 0x80 or a 32-bit task) */
	__u32 _pad;
	struct watch w; /* the cgroup's entry in watched, copied by the dispatcher */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sc_args);
} cur_sc SEC(".maps");

static __always_inline struct sc_args *cur_args(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&cur_sc, &zero);
}

/* SYSCALL_PROLOGUE declares sc, nr, w and a; returns unless the current
 * cgroup wants kind. */
#define SYSCALL_PROLOGUE(kind)                                            \
	struct sc_args *sc = cur_args();                                  \
	if (!sc)                                                          \
		return 0;                                                 \
	__u64 nr = sc->nr;                                                \
	struct watch *w = &sc->w;                                         \
	if (!wants(w, (kind)))                                            \
		return 0;                                                 \
	__u64 *a = sc->a;                                                 \
	(void)nr

/* compat_flag marks events of ia32 syscalls. */
static __always_inline __u16 compat_flag(void)
{
	struct sc_args *sc = cur_args();
	return sc && sc->compat ? FLAG_COMPAT : 0;
}

static __always_inline struct sys_event *sys_start(__u32 kind, __u64 nr)
{
	struct sys_event *e = scratch(SCRATCH_SYS);
	if (!e)
		return NULL;
	fill_hdr(&e->hdr, kind);
	e->hdr.syscall_nr = nr;
	e->hdr.flags |= compat_flag();
	e->nr = nr;
	e->arg[0] = e->arg[1] = e->arg[2] = e->arg[3] = 0;
	e->str_len[0] = e->str_len[1] = e->str_len[2] = 0;
	e->_pad = 0;
	return e;
}

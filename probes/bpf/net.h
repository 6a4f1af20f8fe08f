// SPDX-License-Identifier: GPL-2.0
// Network syscalls: connect, socket, dup2/dup3 onto stdio.
#pragma once

#include "syscall.h"

SEC("raw_tracepoint/sys_enter")
int sys_connect(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_CONNECT);
	struct net_event *e = scratch(SCRATCH_SYS);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, KIND_CONNECT);
	e->hdr.syscall_nr = nr;
	e->hdr.flags |= compat_flag();
	e->fd = a[0];
	e->type = 0;
	e->protocol = 0;
	e->port = 0;
	e->unix_len = 0;
	e->_pad = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));

	void *uaddr = (void *)a[1];
	__u16 family = 0;
	bpf_probe_read_user(&family, sizeof(family), uaddr);
	e->family = family;
	__u32 tail = 0;
	if (family == AF_INET) {
		struct sockaddr_in sin = {};
		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		e->port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(e->addr, &sin.sin_addr, 4);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		e->port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(e->addr, &sin6.sin6_addr, 16);
	} else if (family == AF_UNIX) {
		/* sun_path may be abstract (leading NUL): copy raw bytes */
		__u64 len = a[2];
		if (len > sizeof(struct sockaddr_un))
			len = sizeof(struct sockaddr_un);
		if (len > 2) {
			len -= 2;
			if (len <= 108 && bpf_probe_read_user(e->tail, len, uaddr + 2) == 0)
				tail = len;
		}
		e->unix_len = tail;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f = task_fd(task, (int)a[0]);
	if (is_socket(f)) {
		struct socket *sock = BPF_CORE_READ(f, private_data);
		e->type = BPF_CORE_READ(sock, type);
		e->protocol = BPF_CORE_READ(sock, sk, sk_protocol);
	}
	emit(ctx, &e->hdr, sizeof(*e), tail);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int sys_socket(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_SOCKET);
	struct net_event *e = scratch(SCRATCH_SYS);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, KIND_SOCKET);
	e->hdr.syscall_nr = nr;
	e->hdr.flags |= compat_flag();
	e->family = a[0];
	e->type = a[1];
	e->protocol = a[2];
	e->fd = -1;
	e->port = 0;
	e->unix_len = 0;
	e->_pad = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

/* dup_target returns the fd (0-2) a dup-family call will put old fd onto,
 * or -1 when it is not stdio: dup2/dup3 name it; dup and fcntl
 * F_DUPFD/F_DUPFD_CLOEXEC take the lowest free fd from a minimum, the
 * first of fds min..2 that is closed now. */
static __always_inline int dup_target(struct task_struct *task, __u64 nr, __u64 *a)
{
	__u64 min = 0;
	if (nr == NR_dup2 || nr == NR_dup3)
		return a[1] <= 2 ? (int)a[1] : -1;
	if (nr == NR_fcntl) {
		if (a[1] != F_DUPFD && a[1] != F_DUPFD_CLOEXEC)
			return -1;
		min = a[2];
	}
	for (int fd = 0; fd <= 2; fd++)
		if (fd >= min && !task_fd(task, fd))
			return fd;
	return -1;
}

/* sys_dup: dup, dup2, dup3 and fcntl(F_DUPFD*) onto fds 0-2 only (stdio
 * redirection). */
SEC("raw_tracepoint/sys_enter")
int sys_dup(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_DUP);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int target = dup_target(task, nr, a);
	if (target < 0)
		return 0;
	struct sys_event *e = sys_start(KIND_DUP, nr);
	if (!e)
		return 0;
	e->arg[0] = a[0];
	e->arg[1] = target;
	e->arg[2] = nr == NR_dup3 ? a[2] : 0;
	struct file *f = task_fd(task, (int)a[0]);
	if (is_socket(f))
		e->hdr.flags |= FLAG_OLD_SOCK;
	if (is_inet_socket(f))
		e->hdr.flags |= FLAG_INET_STDIO;
	emit(ctx, &e->hdr, sizeof(*e), 0);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
// Network syscalls: connect, socket, dup2/dup3 onto stdio.
#pragma once

#include "exit.h"

/* sys_connect (entry): connect, and sendto/sendmsg with a destination
 * address, are judged at exit (sys_connect_exit); the entry only stashes
 * the arguments. A sendto or sendmsg without an address (a connected
 * socket) is not stashed: its connect was judged. */
SEC("raw_tracepoint/sys_enter")
int sys_connect(struct bpf_raw_tracepoint_args *ctx)
{
	SYSCALL_PROLOGUE(KIND_CONNECT);
	if (nr == NR_sendto && !a[4])
		return 0;
	if (nr == NR_sendmsg) {
		/* msg_name is the first member of struct msghdr (both ABIs); an
		 * unreadable msghdr is stashed too, and judged at exit */
		__u64 name = 0;
		if (bpf_probe_read_user(&name, sc->compat ? 4 : 8, (void *)a[1]) == 0 && !name)
			return 0;
	}
	stash_for_exit(sc);
	return 0;
}

#define EINPROGRESS 115

/* read_addr reads n bytes of a sockaddr: from user memory (resident at
 * syscall exit: the kernel copied it in), or from the kernel's own copy
 * (what the BPF-LSM hook is passed). */
static __always_inline long read_addr(void *dst, __u32 n, const void *src, bool user)
{
	return user ? bpf_probe_read_user(dst, n, src) : bpf_probe_read_kernel(dst, n, src);
}

/* peer_from_addr reads a sockaddr of len bytes into e; returns the unix
 * path bytes written into e->tail, or -1 when the address could not be
 * read. */
static __always_inline int peer_from_addr(struct net_event *e, void *addr, __u64 len, bool user)
{
	__u16 family = 0;
	if (!addr || read_addr(&family, sizeof(family), addr, user))
		return -1;
	e->family = family;
	if (family == AF_INET) {
		struct sockaddr_in sin = {};
		if (read_addr(&sin, sizeof(sin), addr, user))
			return -1;
		e->port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(e->addr, &sin.sin_addr, 4);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		if (read_addr(&sin6, sizeof(sin6), addr, user))
			return -1;
		e->port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(e->addr, &sin6.sin6_addr, 16);
	} else if (family == AF_UNIX) {
		/* sun_path may be abstract (leading NUL): copy raw bytes */
		if (len > sizeof(struct sockaddr_un))
			len = sizeof(struct sockaddr_un);
		if (len > 2) {
			len -= 2;
			if (len <= 108 && read_addr(e->tail, len, addr + 2, user) == 0)
				return len;
			return -1;
		}
	}
	return 0;
}

/* peer_from_sock reads the peer the socket is connected to from the
 * kernel's struct sock; false when it has none (an unconnected UDP
 * socket, a refused connect). */
static __always_inline bool peer_from_sock(struct net_event *e, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (!dport)
		return false;
	if (family == AF_INET) {
		__u32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		if (!daddr)
			return false;
		__builtin_memcpy(e->addr, &daddr, 4);
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->addr, sk, __sk_common.skc_v6_daddr);
	} else {
		return false;
	}
	e->family = family;
	e->port = bpf_ntohs(dport);
	return true;
}

/* connect_report reports a connect (or a send with an address) of the
 * stashed syscall sc on socket sock, with its destination: at exit
 * (VIA_EXIT), from the socket the kernel connected when it did (an
 * established or in-progress connect, TCP Fast Open), else from the
 * sockaddr addr (len bytes; user memory when user, else the kernel's
 * copy). Nothing readable is an event marked FLAG_UNREADABLE. */
static __always_inline void connect_report(void *ctx, __u32 slot, struct sc_args *sc, __s64 ret, struct socket *sock,
					   void *addr, __u64 len, bool user, __u8 via)
{
	__u64 nr = sc->nr;
	struct net_event *e = scratch(slot);
	if (!e)
		return;
	fill_hdr(&e->hdr, KIND_CONNECT);
	e->hdr.syscall_nr = nr;
	if (sc->compat)
		e->hdr.flags |= FLAG_COMPAT;
	e->fd = sc->a[0];
	e->ret = ret;
	e->family = e->type = e->protocol = 0;
	e->port = 0;
	e->unix_len = 0;
	e->via = via;
	e->_pad[0] = e->_pad[1] = e->_pad[2] = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	struct sock *sk = NULL;
	if (sock) {
		e->type = BPF_CORE_READ(sock, type);
		sk = BPF_CORE_READ(sock, sk);
		e->protocol = BPF_CORE_READ(sk, sk_protocol);
	}
	int tail = 0;
	bool done = false;
	if (via == VIA_EXIT && sk && (ret >= 0 || ret == -EINPROGRESS) && (nr == NR_connect || e->protocol == IPPROTO_TCP))
		done = peer_from_sock(e, sk);
	if (!done) {
		tail = peer_from_addr(e, addr, len, user);
		if (tail < 0) {
			tail = 0;
			mark_unreadable(&e->hdr);
		}
	}
	e->unix_len = tail;
	emit(ctx, &e->hdr, sizeof(*e), tail & 0xff);
}

/* sys_connect_exit reports a connect, or a send with an address, at its
 * exit (connect_report). With the LSM hook set, lsm_socket_connect has
 * reported (and unstashed) every connect that reached
 * security_socket_connect: what is left here are sends and connects
 * whose address the kernel could not copy. */
SEC("raw_tracepoint/sys_exit")
int sys_connect_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct exit_args *x = cur_exit_args();
	if (!x)
		return 0;
	__u64 *a = x->sc.a;
	__u64 nr = x->sc.nr;
	void *uaddr = (void *)a[1];
	__u64 len = a[2];
	if (nr == NR_sendto) {
		uaddr = (void *)a[4];
		len = a[5];
	} else if (nr == NR_sendmsg) {
		__u64 name = 0;
		__u32 namelen = 0;
		void *msg = (void *)a[1];
		if (x->sc.compat) {
			bpf_probe_read_user(&name, 4, msg);
			bpf_probe_read_user(&namelen, 4, msg + 4);
		} else {
			bpf_probe_read_user(&name, 8, msg);
			bpf_probe_read_user(&namelen, 4, msg + 8);
		}
		uaddr = (void *)name;
		len = namelen;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *f = task_fd(task, (int)a[0]);
	struct socket *sock = is_socket(f) ? BPF_CORE_READ(f, private_data) : NULL;
	connect_report(ctx, SCRATCH_SYSEXIT, &x->sc, x->ret, sock, uaddr, len, true, VIA_EXIT);
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
	e->ret = 0;
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

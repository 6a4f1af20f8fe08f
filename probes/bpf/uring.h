// SPDX-License-Identifier: GPL-2.0
// io_uring submissions: the opcodes that open, connect or change files,
// seen on io_uring's submit tracepoint (io_uring_submit_req on 6.x,
// io_uring_submit_sqe before). The loader attaches the program that fits
// the tracepoint's prototype, where there is one; everything read from
// struct io_kiocb is CO-RE guarded, so the object loads on kernels with
// other layouts or no io_uring.
#pragma once

#include "common.h"

#define REQ_F_FIXED_FILE 1 /* 1 << REQ_F_FIXED_FILE_BIT */

struct uring_event {
	struct event_hdr hdr;
	__u32 opcode;
	__s32 fd;         /* the sqe's fd: an open's dirfd, else the file (-1: unknown) */
	__u32 open_flags; /* open: how.flags */
	__u32 family;     /* connect: address family */
	__u16 port;       /* connect: host byte order */
	__u16 path_len;   /* open: the kernel's copy of the path (raw); other: path blob of fd */
	__u16 base_len;   /* open: path blob of dirfd/cwd when the path is relative */
	__u16 fixed;      /* 1: fd indexes the ring's fixed file table */
	__u8 addr[16];
	__u8 tail[];
};

/* 7.x keeps the name in a struct delayed_filename (its first member is
 * the struct filename pointer) where older kernels have the pointer. */
struct delayed_filename___pg {
	struct filename *__incomplete_filename;
};
struct io_open___delayed {
	struct delayed_filename___pg filename;
};

static __always_inline __u32 uring_open(struct uring_event *e, struct io_kiocb *req)
{
	if (!bpf_core_type_exists(struct io_open))
		return 0;
	struct io_open *op = (void *)req;
	struct filename *fn = NULL;
	if (bpf_core_field_exists(struct io_open___delayed, filename))
		fn = BPF_CORE_READ((struct io_open___delayed *)op, filename.__incomplete_filename);
	else if (bpf_core_field_exists(struct io_open, filename))
		fn = BPF_CORE_READ(op, filename);
	const char *name = fn ? BPF_CORE_READ(fn, name) : NULL;
	int dfd = BPF_CORE_READ(op, dfd);
	e->fd = dfd;
	e->open_flags = BPF_CORE_READ(op, how.flags);
	if (!name) {
		e->hdr.flags |= FLAG_UNREADABLE;
		return 0;
	}
	__u32 n = put_kernel_str(&e->hdr, e->tail, 0, name);
	e->path_len = n;
	char first = 0;
	bpf_probe_read_kernel(&first, 1, name);
	if (first == '/' || n == 0)
		return n;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 b;
	if (dfd == AT_FDCWD) {
		struct path pwd;
		BPF_CORE_READ_INTO(&pwd, task, fs, pwd);
		b = put_path(&e->hdr, e->tail, n, pwd.dentry, pwd.mnt);
	} else {
		b = put_file_path(&e->hdr, e->tail, n, task_fd(task, dfd));
	}
	e->base_len = b;
	return n + b;
}

/* uring_connect reads the destination: from the caller's memory (the
 * tracepoint runs in the submitting task, right after the kernel read the
 * same address), else from the kernel's copy where the kernel makes it at
 * prep (the request's async data, 6.10+). */
static __always_inline void uring_connect(struct uring_event *e, struct io_kiocb *req)
{
	struct sockaddr_in6 sa = {};
	long err = -1;
	if (bpf_core_type_exists(struct io_connect) && bpf_core_field_exists(struct io_connect, addr)) {
		struct io_connect *c = (void *)req;
		err = bpf_probe_read_user(&sa, sizeof(sa), BPF_CORE_READ(c, addr));
	}
	if (err != 0 && bpf_core_type_exists(struct io_async_msghdr) && bpf_core_field_exists(struct io_async_msghdr, addr) &&
	    bpf_core_field_exists(struct io_kiocb, async_data)) {
		void *io = BPF_CORE_READ(req, async_data);
		if (io)
			err = bpf_probe_read_kernel(&sa, sizeof(sa), io + bpf_core_field_offset(struct io_async_msghdr, addr));
	}
	if (err != 0) {
		e->hdr.flags |= FLAG_UNREADABLE;
		return;
	}
	e->family = sa.sin6_family;
	e->port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *in = (void *)&sa;
		__builtin_memcpy(e->addr, &in->sin_addr, 4);
	} else if (sa.sin6_family == AF_INET6) {
		__builtin_memcpy(e->addr, &sa.sin6_addr, 16);
	}
}

static __always_inline bool uring_interesting(__u32 op)
{
	return op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2 || op == IORING_OP_CONNECT ||
	       op == IORING_OP_WRITEV || op == IORING_OP_WRITE_FIXED || op == IORING_OP_WRITE ||
	       (op >= IORING_OP_RENAMEAT && op <= IORING_OP_LINKAT);
}

/* uring_kind is the kind a cgroup must want for op to be reported: opens
 * and connects are judged by the open and connect rules. */
static __always_inline __u32 uring_kind(__u32 op)
{
	if (op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2)
		return KIND_OPEN;
	if (op == IORING_OP_CONNECT)
		return KIND_CONNECT;
	return KIND_URING_OP;
}

/* uring_submit_op judges one submission: req is the request (NULL where
 * the tracepoint gives only the opcode). */
static __always_inline int uring_submit_op(void *ctx, struct io_kiocb *req, __u32 op)
{
	struct watch *w = watch_for(bpf_get_current_cgroup_id());
	if (!w)
		return 0;
	if (req) {
		if (!bpf_core_type_exists(struct io_kiocb))
			return 0;
		op = BPF_CORE_READ(req, opcode);
	}
	if (!uring_interesting(op))
		return 0;
	if (!wants(w, uring_kind(op)) && !wants(w, KIND_URING_OP))
		return 0;
	struct uring_event *e = scratch(SCRATCH_URING);
	if (!e)
		return 0;
	fill_hdr(&e->hdr, KIND_URING_OP);
	e->opcode = op;
	e->fd = -1;
	e->open_flags = e->family = 0;
	e->port = e->path_len = e->base_len = e->fixed = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	__u32 tail = 0;
	if (req) {
		if (bpf_core_field_exists(req->cqe.fd))
			e->fd = BPF_CORE_READ(req, cqe.fd);
		e->fixed = BPF_CORE_READ(req, flags) & REQ_F_FIXED_FILE;
		if (op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2) {
			tail = uring_open(e, req);
		} else if (op == IORING_OP_CONNECT) {
			uring_connect(e, req);
		} else if (!e->fixed && e->fd >= 0) {
			struct task_struct *task = (struct task_struct *)bpf_get_current_task();
			tail = put_file_path(&e->hdr, e->tail, 0, task_fd(task, e->fd));
			e->path_len = tail;
		}
	}
	emit(ctx, &e->hdr, sizeof(*e), tail);
	return 0;
}

/* uring_submit: io_uring_submit_req(req) (6.12+) and 6.1's
 * io_uring_submit_sqe(req, force_nonblock): the request first. The
 * loader attaches one of the two programs, by the tracepoint's prototype;
 * each reads only the arguments its tracepoint has. */
SEC("raw_tracepoint/io_uring_submit_req")
int uring_submit(struct bpf_raw_tracepoint_args *ctx)
{
	return uring_submit_op(ctx, (struct io_kiocb *)ctx->args[0], 0);
}

/* uring_submit_op2: 5.10's io_uring_submit_sqe(ctx, req, opcode,
 * user_data, flags, force_nonblock, sq_thread), whose request is an
 * untyped pointer read before its prep: the opcode only. */
SEC("raw_tracepoint/io_uring_submit_sqe")
int uring_submit_op2(struct bpf_raw_tracepoint_args *ctx)
{
	return uring_submit_op(ctx, NULL, (__u8)ctx->args[2]);
}

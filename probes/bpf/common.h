// SPDX-License-Identifier: GPL-2.0
// Shared wire format, maps and helpers for every podguard probe.
#pragma once

#include "vmlinux.h"
#include "bpf_helpers.h"
#include "bpf_core_read.h"
#include "bpf_endian.h"

/* Event kinds. Keep in sync with probes/kind.go. */
enum event_kind {
	KIND_EXEC = 1,
	KIND_FORK = 2,
	KIND_EXIT = 3,
	KIND_OPEN = 4,
	KIND_UNLINK = 5,
	KIND_RENAME = 6,
	KIND_LINK = 7,
	KIND_SYMLINK = 8,
	KIND_CHMOD = 9,
	KIND_MKDIR = 10,
	KIND_CONNECT = 11,
	KIND_SOCKET = 12,
	KIND_DUP = 13,
	KIND_PTRACE = 14,
	KIND_VM_WRITE = 15,
	KIND_MODULE = 16,
	KIND_BPF = 17,
	KIND_MOUNT = 18,
	KIND_UMOUNT = 19,
	KIND_UNSHARE = 20,
	KIND_SETNS = 21,
	KIND_SETID = 22,
	KIND_MEMFD = 23,
	KIND_KILL = 24,
	/* routes (issue 14): other syscalls to the same effects */
	KIND_CLONE = 25,    /* clone/clone3 with CLONE_NEW* (or unreadable clone_args) */
	KIND_MKNOD = 26,    /* mknod, mknodat */
	KIND_TRUNCATE = 27, /* truncate, ftruncate */
	KIND_IO_URING = 28, /* io_uring_setup */
	KIND_URING_OP = 29, /* an io_uring submission that opens, connects or writes */
	/* 38: events_lost, made by the reader from the budgets map (a lost
	 * event cannot report itself through the buffer that lost it) */
	KIND_EVENTS_LOST = 38,
	KIND_MAX = 64,
};

/* Header flags. Keep in sync with probes/event.go. */
enum event_flag {
	FLAG_KILLED = 1 << 0,      /* bpf_send_signal(SIGKILL) was sent */
	FLAG_TRUNCATED = 1 << 1,   /* a string or path did not fit */
	FLAG_STDIN_SOCK = 1 << 2,  /* exec: fd 0 is a socket */
	FLAG_STDOUT_SOCK = 1 << 3, /* exec: fd 1 is a socket */
	FLAG_TTY = 1 << 4,         /* exec: fd 0 is a terminal */
	FLAG_UPPER = 1 << 5,       /* exec: file only on overlayfs upper layer */
	FLAG_MEMFD = 1 << 6,       /* exec: file is a memfd */
	FLAG_OLD_SOCK = 1 << 7,    /* dup: old fd is a socket */
	FLAG_INET_STDIO = 1 << 8,  /* exec: fd 0 or 1 is an AF_INET/AF_INET6 socket */
	FLAG_COMPAT = 1 << 9,      /* syscall made through the ia32 ABI */
	FLAG_UNREADABLE = 1 << 10, /* an argument could not be read */
};

/* Kill mask bits. Keep in sync with probes/kind.go. */
enum kill_bit {
	KILL_DRIFT = 1 << 0,
	KILL_MEMFD_EXEC = 1 << 1,
	KILL_MODULE = 1 << 2,
	KILL_PTRACE = 1 << 3,
	KILL_NAMESPACE = 1 << 4,
	KILL_REVERSE_SHELL = 1 << 5,
	KILL_EVENTS_LOST = 1 << 13, /* a task whose event is beyond its container's share */
};

struct event_hdr {
	__u16 kind;
	__u16 flags;
	__u32 size;
	__u64 ktime;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 syscall_nr; /* x86_64 number for syscall events, else 0 */
	__u64 cgroup_id;
	__u8 comm[16];
};

/* Strings follow each fixed part in tail[], in the order of the *_len
 * fields. A "path" blob is a dentry walk: components leaf first, each
 * NUL-terminated; userspace reverses them. Other blobs are raw strings. */
struct exec_event {
	struct event_hdr hdr;
	__u32 euid;
	__u32 egid;
	__u32 old_pid;
	__u16 exe_len;      /* path blob of bprm->file */
	__u16 filename_len; /* bprm->filename as passed to execve */
	__u16 args_len;     /* argv, NUL separated, bounded */
	__u16 cwd_len;      /* path blob of fs->pwd */
	/* identity of the executed file (bprm->file): what ran, whatever
	 * its name; origin says where it came from (enum exe_origin). */
	__u32 exe_dev;      /* the file's super block s_dev (kernel dev_t) */
	__u64 exe_ino;
	__u32 exe_nlink;
	__u8 origin;
	__u8 stdio_inet;     /* bit n: fd n (0, 1, 2) is an AF_INET/AF_INET6 socket */
	__u8 args_truncated; /* argv was longer than ARGS_MAX */
	__u8 _pad;
	__u8 tail[];
};

/* Where an executed file comes from. Keep in sync with probes/event.go. */
enum exe_origin {
	ORIGIN_UNKNOWN = 0, /* not on overlayfs, and the task's root is not either */
	ORIGIN_IMAGE = 1,   /* overlayfs, served from a lower (image) layer */
	ORIGIN_UPPER = 2,   /* overlayfs, only on the upper layer: written in the container */
	ORIGIN_COPYUP = 3,  /* overlayfs, an image file copied up: written or chmodded */
	ORIGIN_TMPFS = 4,   /* tmpfs (emptyDir medium Memory, a tmpfs mount) */
	ORIGIN_MEMFD = 5,   /* memfd_create */
	ORIGIN_TMPFILE = 6, /* no links: O_TMPFILE, or a file deleted before exec */
	ORIGIN_HOST = 7,    /* another file system below an overlay root: a volume */
};

struct file_event {
	struct event_hdr hdr;
	__s32 dirfd;
	__s32 dirfd2;
	__u32 flags;
	__u32 mode;
	__u16 path_len;  /* raw user string (or path blob when from_fd) */
	__u16 base_len;  /* path blob of dirfd/cwd when path is relative */
	__u16 path2_len; /* second raw user string (rename, link, symlink) */
	__u16 base2_len; /* path blob for the second path */
	__u32 from_fd;   /* 1 when path was resolved from an fd (fchmod) */
	__u32 _pad;
	__u8 tail[];
};

struct net_event {
	struct event_hdr hdr;
	__u32 family;
	__u32 type;
	__u32 protocol;
	__s32 fd;
	__u16 port; /* host byte order */
	__u16 unix_len;
	__u8 addr[16];
	__s32 ret; /* connect/sendto/sendmsg: the syscall's result (0 for socket and from LSM) */
	__u8 via;  /* connect: enum report_via (exit.h) */
	__u8 _pad[3];
	__u8 tail[];
};

struct sys_event {
	struct event_hdr hdr;
	__u64 nr;     /* syscall number (0 for sched events) */
	__u64 arg[4]; /* meaning per kind, see probes/decode.go */
	__u16 str_len[3];
	__u16 _pad;
	__u8 tail[];
};

/* watch is a cgroup's entry in watched. A container's entry (root == its
 * own cgroup id) says what the kernel reports and kills there. A child
 * cgroup created below a watched one (cgroups.h) gets an entry with only
 * root set, the container's cgroup id: watch_for follows it, so the
 * container's settings apply to its child cgroups and their events are
 * attributed to the container. The host entry (key 0) has root 0. */
struct watch {
	__u64 kinds;
	__u64 kill;
	__u64 root;
};

/* budget is one watched container's fair share of the event buffer and
 * its loss counters (key: the container's cgroup id; written by the
 * loader when it watches the container, read and left running by the
 * reader, which reports the differences). The share is in bytes of
 * buffer: credit, in nanoseconds, grows with time up to cap (the burst),
 * and an event of n bytes costs n * cost ns. An event beyond the share is
 * dropped only while the ring is more than half full (the perf buffer
 * cannot tell: there, always): a busy pod loses nothing while the reader
 * keeps up, and a flooding one cannot take the other half of the ring
 * from the pods under their share (its burst is a fraction of the ring).
 * Events that carry an in-kernel kill are never rate limited. */
struct budget {
	__u64 credit;
	__u64 last;
	__u64 cost; /* ns per byte at the share's rate; 0: no limit */
	__u64 cap;  /* credit cap: burst bytes * cost */
	__u32 ring_full[KIND_MAX];    /* the buffer had no room */
	__u32 rate_limited[KIND_MAX]; /* beyond the share under pressure */
};

/* bounded(x, mask): x & mask, with the AND kept even when the compiler
 * can prove it redundant (the verifier cannot). */
#define bounded(x, mask) ({ __u64 __v = (x); asm volatile("" : "+r"(__v)); __v & (mask); })

#define TAIL_MAX 4096
#define TAIL_MASK (TAIL_MAX - 1)
#define CHUNK 256        /* largest single string read into tail */
#define ARGS_MAX 512     /* argv bytes */
#define PATH_DEPTH 24    /* dentry components walked */
#define SCRATCH_SIZE 8192 /* power of two > fixed part + TAIL_MAX + ARGS_MAX */

struct scratch {
	__u8 buf[SCRATCH_SIZE];
};

/* events carries every event to userspace. The default object uses a BPF
 * ring buffer (5.8+); the fallback object, built with -DPG_PERFBUF, uses a
 * perf event array (one buffer per CPU, sized by the reader) for older
 * kernels. Program logic is the same in both; only emit() differs. */
#ifdef PG_PERFBUF
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");
#else
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct watch);
} watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ring_drops SEC(".maps");

/* share_drops counts, per kind, events dropped beyond a container's fair
 * share (struct budget), over all containers. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} share_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);
	__type(key, __u64);
	__type(value, struct budget);
} budgets SEC(".maps");

/* rb_pending is 1 while a fork or exit record waits in the ring without
 * having woken the reader (see emit). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rb_pending SEC(".maps");

/* scratch_map holds one event under construction per CPU and per program
 * family. The slots keep programs that may run on the same CPU at the
 * same time from sharing a buffer: on kernels whose tracepoints run BPF
 * programs with migration but not preemption disabled (Debian's 7.2), a
 * program can be preempted half way through an event while another
 * task's program runs on that CPU. The kernel keeps one program from
 * running twice at once on a CPU (it skips and counts the second run),
 * but not two different ones. */
enum scratch_slot {
	SCRATCH_SYS = 0,  /* sys_enter and the syscall programs it tail-calls */
	SCRATCH_EXEC = 1, /* sched_exec */
	SCRATCH_FORK = 2, /* sched_fork */
	SCRATCH_EXIT = 3, /* sched_exit */
	SCRATCH_SYSEXIT = 4, /* sys_exit and the syscall exit programs it tail-calls */
	SCRATCH_URING = 5, /* uring_submit (io_uring's submit tracepoint) */
	SCRATCH_LSM = 6,   /* the BPF-LSM programs (lsm.h) */
	SCRATCH_SLOTS = 7,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* Set by the loader: events from unwatched cgroups use the entry for
 * cgroup id 0 (the host default) instead of being dropped. */
volatile const bool host_monitoring = false;

#define SIGKILL 9
#define AT_FDCWD -100
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFCHR 0020000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define TMPFS_MAGIC 0x01021994

static __always_inline struct watch *watch_for(__u64 cg)
{
	struct watch *w = bpf_map_lookup_elem(&watched, &cg);
	if (w && w->root && w->root != cg) /* a child cgroup: its container's */
		w = bpf_map_lookup_elem(&watched, &w->root);
	if (!w && host_monitoring) {
		__u64 host = 0;
		w = bpf_map_lookup_elem(&watched, &host);
	}
	return w;
}

static __always_inline bool wants(struct watch *w, __u32 kind)
{
	return w && (w->kinds & (1ULL << (kind & 63)));
}

static __always_inline void *scratch(__u32 slot)
{
	return bpf_map_lookup_elem(&scratch_map, &slot);
}

/* scratch_slot_of is the slot of the program that builds events of kind. */
static __always_inline __u32 scratch_slot_of(__u32 kind)
{
	switch (kind) {
	case KIND_EXEC:
		return SCRATCH_EXEC;
	case KIND_FORK:
		return SCRATCH_FORK;
	case KIND_EXIT:
		return SCRATCH_EXIT;
	case KIND_URING_OP:
		return SCRATCH_URING;
	default:
		return SCRATCH_SYS;
	}
}

static __always_inline void fill_hdr(struct event_hdr *h, __u32 kind)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->kind = kind;
	h->flags = 0;
	h->size = 0;
	h->ktime = bpf_ktime_get_ns();
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->syscall_nr = 0;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* budget_for attributes h to its watched container (the cgroup id of a
 * child cgroup's event becomes its container's) and returns the
 * container's budget; NULL for the host entry or an unwatched cgroup. */
static __always_inline struct budget *budget_for(struct event_hdr *h, __u64 *kill)
{
	struct watch *w = watch_for(h->cgroup_id);
	if (!w || !w->root)
		return NULL;
	__u64 root = w->root;
	*kill = w->kill;
	h->cgroup_id = root;
	return bpf_map_lookup_elem(&budgets, &root);
}

/* over_share takes the cost of an event of size bytes from b's credit at
 * ktime now and reports whether there was not enough (the container is
 * beyond its share). Updates from two CPUs at once may race: the share
 * is approximate, the counters (atomic) are exact. */
static __always_inline bool over_share(struct budget *b, __u64 now, __u64 size)
{
	__u64 cost = b->cost * size;
	if (!cost)
		return false;
	__u64 last = b->last, credit = b->credit;
	if (now > last)
		credit += now - last;
	if (credit > b->cap)
		credit = b->cap;
	b->last = now;
	if (credit >= cost) {
		b->credit = credit - cost;
		return false;
	}
	b->credit = credit;
	return true;
}

/* under_pressure reports whether the ring is more than half full. The
 * perf buffer has no such query: there the share always holds. */
static __always_inline bool under_pressure(void)
{
#ifdef PG_PERFBUF
	return true;
#else
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail * 2 > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
#endif
}

/* emit copies fixed+tail bytes of the scratch event into events (ring
 * buffer, or this CPU's perf buffer with PG_PERFBUF; ctx is the program's
 * context, which bpf_perf_event_output needs) and counts a failed output
 * (buffer full) against the event's kind. */
static __always_inline void emit(void *ctx, struct event_hdr *h, __u32 fixed, __u32 tail)
{
	/* real sizes stay below TAIL_MAX + ARGS_MAX + fixed; the mask only
	 * proves to the verifier that the read stays inside scratch. */
	__u64 size = (fixed + tail) & (SCRATCH_SIZE - 1);
	h->size = size;
	__u32 k = h->kind & (KIND_MAX - 1);
	__u64 kill = 0;
	struct budget *b = budget_for(h, &kill);
	if (b && !(h->flags & FLAG_KILLED) && over_share(b, h->ktime, size) && under_pressure()) {
		__sync_fetch_and_add(&b->rate_limited[bounded(k, KIND_MAX - 1)], 1);
		__u64 *n = bpf_map_lookup_elem(&share_drops, &k);
		if (n)
			*n += 1;
		if (kill & KILL_EVENTS_LOST)
			bpf_send_signal(SIGKILL);
		return;
	}
#ifdef PG_PERFBUF
	long err = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, h, size);
#else
	/* fork and exit only keep the process table: they ride along with
	 * the next event instead of waking the reader. That next event must
	 * force the wakeup, since the ring's adaptive wakeup fires only for a
	 * record the reader was waiting for. */
	__u32 zero = 0;
	__u32 *pending = bpf_map_lookup_elem(&rb_pending, &zero);
	__u64 flags = 0;
	if (h->kind == KIND_FORK || h->kind == KIND_EXIT) {
		flags = BPF_RB_NO_WAKEUP;
		if (pending && !*pending)
			*pending = 1;
	} else if (pending && *pending) {
		*pending = 0;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	long err = bpf_ringbuf_output(&events, h, size, flags);
#endif
	if (err != 0) {
		__u64 *n = bpf_map_lookup_elem(&ring_drops, &k);
		if (n)
			*n += 1;
		if (b)
			__sync_fetch_and_add(&b->ring_full[bounded(k, KIND_MAX - 1)], 1);
	}
}

/* kill sends SIGKILL to the current task and marks the event. */
static __always_inline void kill_current(struct event_hdr *h)
{
	bpf_send_signal(SIGKILL);
	h->flags |= FLAG_KILLED;
}

/* put_user_str copies a user string into tail at off; returns the bytes
 * written including the NUL, 0 when nothing could be read. */
static __always_inline __u32 put_user_str(struct event_hdr *h, __u8 *tail, __u32 off, const char *s)
{
	if (!s || off > TAIL_MAX - CHUNK) {
		if (s)
			h->flags |= FLAG_TRUNCATED;
		return 0;
	}
	long n = bpf_probe_read_user_str(tail + bounded(off, TAIL_MASK), CHUNK, s);
	if (n <= 0)
		return 0;
	if (n == CHUNK)
		h->flags |= FLAG_TRUNCATED;
	return n;
}

static __always_inline __u32 put_kernel_str(struct event_hdr *h, __u8 *tail, __u32 off, const char *s)
{
	if (!s || off > TAIL_MAX - CHUNK) {
		if (s)
			h->flags |= FLAG_TRUNCATED;
		return 0;
	}
	long n = bpf_probe_read_kernel_str(tail + bounded(off, TAIL_MASK), CHUNK, s);
	if (n <= 0)
		return 0;
	return n;
}

#define WALK_TRUNCATED (1 << 16)

/* walk_path walks from dentry d on mount vm up to the root, writing each
 * component name (leaf first, NUL-terminated) at the scratch buffer's
 * (slot's) buf[base + off]. Mount points are crossed through struct mount. It is a
 * global function so the verifier checks it once, not once per caller and
 * loop state; it takes only scalars and looks the (per-CPU) scratch buffer
 * up itself, because kernels before 5.12 reject pointer arguments to
 * global functions ("Arg#0 type PTR in walk_path() is not supported yet").
 * Returns the bytes written, | WALK_TRUNCATED when the path was cut. */
__noinline int walk_path(__u32 slot, __u32 base, __u32 off, __u64 dentry, __u64 vfsmnt)
{
	struct scratch *s = scratch(slot);
	struct dentry *d = (struct dentry *)dentry;
	struct vfsmount *vm = (struct vfsmount *)vfsmnt;
	__u32 start = off;

	if (!s || !d || !vm)
		return 0;
	struct mount *m = (struct mount *)((void *)vm - bpf_core_field_offset(struct mount, mnt));
	for (int i = 0; i < PATH_DEPTH; i++) {
		struct dentry *root = BPF_CORE_READ(m, mnt.mnt_root);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (d == root) {
			struct mount *mp = BPF_CORE_READ(m, mnt_parent);
			if (m == mp) /* the root of the mount tree */
				return off - start;
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = mp;
			continue;
		}
		if (off > TAIL_MAX - CHUNK)
			return (off - start) | WALK_TRUNCATED;
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);
		long n = bpf_probe_read_kernel_str(&s->buf[bounded(base, 127) + bounded(off, TAIL_MASK)], CHUNK, name);
		if (n > 0)
			off += n;
		if (d == parent) /* pseudo file (memfd, pipe): its name is all */
			return off - start;
		d = parent;
	}
	return (off - start) | WALK_TRUNCATED;
}

static __always_inline __u32 put_path(struct event_hdr *h, __u8 *tail, __u32 off,
				      struct dentry *d, struct vfsmount *vm)
{
	__u32 base = (__u32)((void *)tail - (void *)h);
	int r = walk_path(scratch_slot_of(h->kind), base, off, (__u64)d, (__u64)vm);
	if (r & WALK_TRUNCATED)
		h->flags |= FLAG_TRUNCATED;
	return r & 0xffff;
}

static __always_inline __u32 put_file_path(struct event_hdr *h, __u8 *tail, __u32 off, struct file *f)
{
	if (!f)
		return 0;
	return put_path(h, tail, off, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt));
}

static __always_inline struct file *task_fd(struct task_struct *task, int fd)
{
	struct file *f = NULL;
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd < 0)
		return NULL;
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffff]);
	return f;
}

static __always_inline umode_t file_mode(struct file *f)
{
	if (!f)
		return 0;
	return BPF_CORE_READ(f, f_inode, i_mode);
}

static __always_inline bool is_socket(struct file *f)
{
	return f && (file_mode(f) & S_IFMT) == S_IFSOCK;
}

static __always_inline bool is_inet_socket(struct file *f)
{
	if (!is_socket(f))
		return false;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	__u16 family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6;
}

/* put_base writes the directory a relative path is resolved against:
 * the cwd for AT_FDCWD, else the file behind dirfd. */
static __always_inline __u32 put_base(struct event_hdr *h, __u8 *tail, __u32 off, int dirfd, const char *upath)
{
	char first = 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!upath)
		return 0;
	bpf_probe_read_user(&first, 1, upath);
	if (first == '/')
		return 0;
	if (dirfd == AT_FDCWD) {
		struct path pwd;
		BPF_CORE_READ_INTO(&pwd, task, fs, pwd);
		return put_path(h, tail, off, pwd.dentry, pwd.mnt);
	}
	return put_file_path(h, tail, off, task_fd(task, dirfd));
}

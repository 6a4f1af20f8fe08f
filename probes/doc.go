// Package probes loads podguard's eBPF programs, filters events in the
// kernel by cgroup, and delivers them as decoded Go values.
//
// Contract:
//   - Load attaches raw tracepoints (sched_process_exec/fork/exit and
//     raw_syscalls:sys_enter, which tail-calls one handler per syscall
//     number), so it needs neither kprobes, fentry, BPF-LSM, tracefs nor
//     bpffs. Exception: on kernels with faultable syscall tracepoints
//     (7.x; SyscallHook, logged with the reason) raw tracepoint programs
//     on sys_enter run preemptibly and the kernel skips every other run on
//     a CPU while one is preempted, so there sys_enter is hooked with a
//     tracepoint (perf event) program instead, which needs tracefs (Load
//     mounts it on /sys/kernel/tracing when missing). Syscall arguments
//     are read from x86_64 pt_regs: Load returns ErrUnsupportedArch on
//     other architectures.
//   - Where the kernel runs BPF-LSM programs (CONFIG_BPF_LSM, "bpf" in
//     lsm=: Debian 12 and later by default), Load also attaches
//     lsm/file_open and lsm/socket_connect (HookSetLSM, logged with the
//     reason; HookSet, Stats): an open is judged on the struct file the
//     kernel is opening and a connect on the kernel's copy of its address,
//     before the syscall goes on (Record.ByLSM, Ret 0). What never reaches
//     those hooks (failed and O_PATH opens, sendto/sendmsg with an
//     address) is judged at syscall exit, as everything is with
//     HookSetTracepoints. Where BPF-LSM is not active but fentry works,
//     the same programs run as fentry programs on security_file_open and
//     security_socket_connect (HookSetFentry). Options.HookSet forces a
//     set.
//   - The kernel emits an event only for tasks whose cgroup v2 id is in the
//     watched map (SetWatched) and only kinds in that cgroup's KindSet.
//     Host tasks are silent unless Options.HostMonitoring (then SetHost
//     applies). Events are seen at syscall entry: a failing syscall is
//     reported too, and user strings are read before the kernel copies them.
//   - Opens can be filtered further (SetOpenFilter, OpenFilter): once a
//     filter is installed, a read open is emitted only if its raw path or
//     its basename starts with one of the filter's prefixes; writes
//     (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC), relative and unjudgeable paths
//     always pass. Without a filter (after Load, after ClearOpenFilter)
//     every open of a watched cgroup is emitted. OpenFilter.Passes is the
//     Go mirror of the kernel's predicate.
//   - Kills (KillSet) happen in the kernel with bpf_send_signal(SIGKILL):
//     at sched_process_exec before the new image runs a user instruction,
//     or at syscall entry (the syscall itself still runs, the task dies on
//     the way back to user space). A kill is always reported (FlagKilled),
//     even when its kind is not in the KindSet.
//   - Events travel through one BPF ring buffer when the kernel has it
//     (5.8+), else through a perf event array (one buffer per CPU, events
//     of different CPUs may arrive out of order); Options.ForcePerfBuffer
//     forces the latter. Load logs the choice and why; Transport reports
//     it. The programs are the same C built twice (-DPG_PERFBUF). In the
//     ring buffer, fork and exit records do not wake the reader (they only
//     feed the process table); the next other record forces the wakeup,
//     and the reader looks again every 10 ms for records left waiting.
//   - One reader goroutine drains the buffer. The ring buffer is consumed
//     in place (no copy per record) and waited for through the Go
//     netpoller, so an idle runtime wakes straight into the reader. With
//     Options.Handler each event is handed to the handler on that
//     goroutine (no hand-off; the *Record is reused); otherwise it goes to
//     the bounded Events channel, never blocking: a full channel drops the
//     event and counts it per kind, and each *Record is owned by the
//     receiver. Kernel output failures (buffer full) are counted per kind
//     too (Stats).
//   - Paths: Exe and Cwd are resolved in the kernel by a dentry walk
//     (bounded to 24 components; FlagTruncated when cut). File syscall
//     paths are the raw user string; when relative, the kernel walks the
//     cwd (AT_FDCWD) or the dirfd's file and decode joins them, so Path is
//     absolute; RawPath keeps what the process passed. Symlinks and ".."
//     in the raw part are not resolved beyond path.Clean.
//
// Use:
//
//	p, err := probes.Load(probes.Options{Logger: log})
//	defer p.Close()
//	p.SetWatched(cgroupID, probes.KindsOf(probes.KindExec, probes.KindConnect),
//		probes.KillDrift|probes.KillReverseShell)
//	for ev := range p.Events() { ... } // closed by Close
//	st, _ := p.Stats()                  // delivered / queue drops / ring drops per kind
//	p.Transport()                       // TransportRingBuffer or TransportPerfBuffer
//
// ia32 syscalls (int 0x80, 32-bit tasks, socketcall) are translated to
// their x86_64 equivalents and flagged FlagCompat, kills included.
//
// Known gaps: the perf buffer alone does not make kernels before 5.8
// work: the programs also call bpf_probe_read_{user,kernel}* (5.5+) and
// need kernel BTF; a copied-up image binary (upper and lower) is not "drift";
// the 16-bit setuid family reports 0xffff, not -1, for "unchanged".
//
// Regenerate the committed objects with `go generate ./probes/...` (clang,
// llvm-strip; output is deterministic for a given clang).
//
// ProbeFeatures reports what the running kernel offers (BTF, ring buffer,
// bpf_send_signal, raw tracepoints, tc/tcx, cgroup mode) for `podguard
// kernel`. The cgroup mode and cgroup2 mount come from the sub-package
// cgroupfs, which owns them for the whole product.
package probes

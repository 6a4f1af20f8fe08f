package probes

// SyscallHook is how the syscall programs are reached.
type SyscallHook string

const (
	// HookRawTracepoint is a raw tracepoint program on sys_enter (the
	// default): the cheapest hook.
	HookRawTracepoint SyscallHook = "raw_tracepoint/sys_enter"
	// HookTracepoint is a tracepoint (perf event) program on
	// raw_syscalls:sys_enter, with the syscall programs loaded as
	// tracepoint programs; sched_process_exec and sched_process_exit
	// are hooked with tracepoint programs too (fork stays a raw
	// tracepoint). Load picks it on kernels whose tracepoints run raw
	// tracepoint programs with preemption enabled, where one preempted
	// run makes the kernel skip every other run of the program on that
	// CPU until it resumes (lost events, counted in
	// Stats.RecursionMisses); the perf handler runs programs with
	// preemption disabled.
	HookTracepoint SyscallHook = "tracepoint/raw_syscalls/sys_enter"
)

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

// HookSet is how opens and connects are judged.
type HookSet string

const (
	// HookSetTracepoints judges opens and connects at syscall exit
	// (raw_syscalls:sys_exit, on the file behind the returned fd and the
	// connected socket). Every supported kernel has it.
	HookSetTracepoints HookSet = "tracepoints"
	// HookSetLSM judges them in BPF-LSM programs on security_file_open
	// (the struct file the kernel opens) and security_socket_connect
	// (the kernel's copy of the address), before the syscall goes on;
	// what never reaches those hooks (failed and O_PATH opens, sendto
	// and sendmsg with an address) is still judged at exit. Load picks
	// it where the kernel lets a BPF-LSM program attach (CONFIG_BPF_LSM
	// and "bpf" in the lsm= list, not locked down). Records it made have
	// Record.ByLSM set.
	HookSetLSM HookSet = "lsm"
	// HookSetFentry is HookSetLSM's programs attached as fentry programs
	// to security_file_open and security_socket_connect, where BPF-LSM is
	// not active but BPF trampolines are (Debian 11 without "bpf" in
	// lsm=): the same judgement and records (Record.ByLSM).
	HookSetFentry HookSet = "fentry"
)

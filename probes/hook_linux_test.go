//go:build linux && amd64

package probes

import (
	"testing"
)

// TestSyscallHookDefault: the hook Load picks matches the kernel check.
func TestSyscallHookDefault(t *testing.T) {
	if perfMode {
		t.Skip("PODGUARD_TEST_PERF_BUFFER=1")
	}
	r := sharedProbes(t)
	want := HookRawTracepoint
	if faultable, err := syscallTracepointsFaultable(); err == nil && faultable {
		want = HookTracepoint
	}
	if got := r.p.SyscallHook(); got != want {
		t.Errorf("SyscallHook() = %q, want %q", got, want)
	}
}

// TestSyscallTracepoint runs the exec, syscall, kill and compat tests
// again with Options.ForceSyscallTracepoint: the dispatcher as a
// tracepoint program on raw_syscalls:sys_enter with the handlers loaded as
// tracepoint programs, exec and exit as tracepoint programs (the hooks
// Load picks on kernels with faultable tracepoints), here on a kernel
// that would use raw tracepoints.
func TestSyscallTracepoint(t *testing.T) {
	needRoot(t)
	if perfMode {
		t.Skip("PODGUARD_TEST_PERF_BUFFER=1")
	}
	tpMode = true
	t.Cleanup(func() { tpMode = false })
	r := sharedProbes(t)
	if got := r.p.SyscallHook(); got != HookTracepoint {
		t.Fatalf("SyscallHook() = %q, want %q", got, HookTracepoint)
	}
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"ExecEvent", TestExecEvent},
		{"ForkExitCode", TestForkExitCode},
		{"ExecFromMemfd", TestExecFromMemfd},
		{"ExecOverlayUpper", TestExecOverlayUpper},
		{"ExecWithSocketStdin", TestExecWithSocketStdin},
		{"ExecOnTTY", TestExecOnTTY},
		{"KillMemfdExec", TestKillMemfdExec},
		{"KillReverseShell", TestKillReverseShell},
		{"KillDrift", TestKillDrift},
		{"OpenRelativeToCwd", TestOpenRelativeToCwd},
		{"OpenRelativeToDirfd", TestOpenRelativeToDirfd},
		{"Openat2AndCreat", TestOpenat2AndCreat},
		{"FileSyscalls", TestFileSyscalls},
		{"Connect", TestConnect},
		{"PrivilegeSyscalls", TestPrivilegeSyscalls},
		{"SetnsAndPtraceEvents", TestSetnsAndPtraceEvents},
		{"IA32Syscalls", TestIA32Syscalls},
		{"IA32Kill", TestIA32Kill},
		{"KillUnshare", TestKillUnshare},
		{"KillPtraceAttach", TestKillPtraceAttach},
		{"KillModuleLoad", TestKillModuleLoad},
		{"KindMask", TestKindMask},
		{"StormDropsAreCounted", func(t *testing.T) { stormDrops(t, false) }},
	} {
		t.Run(tc.name, tc.test)
	}
	st, err := r.p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recursion misses with the tracepoint hook: %d", st.RecursionMisses)

	// The perf buffer object with the tracepoint hook: the handlers'
	// bpf_perf_event_output gets a tracepoint context.
	t.Run("PerfBuffer", func(t *testing.T) {
		perfMode = true
		t.Cleanup(func() { perfMode = false })
		r := sharedProbes(t)
		if r.p.SyscallHook() != HookTracepoint || r.p.Transport() != TransportPerfBuffer {
			t.Fatalf("hook %q transport %q, want %q and %q", r.p.SyscallHook(), r.p.Transport(), HookTracepoint, TransportPerfBuffer)
		}
		for _, tc := range []struct {
			name string
			test func(*testing.T)
		}{
			{"ExecEvent", TestExecEvent},
			{"FileSyscalls", TestFileSyscalls},
			{"Connect", TestConnect},
			{"IA32Syscalls", TestIA32Syscalls},
			{"KillUnshare", TestKillUnshare},
		} {
			t.Run(tc.name, tc.test)
		}
	})
}

//go:build linux && amd64

package probes

import (
	"os/exec"
	"testing"

	"github.com/cilium/ebpf"
)

// TestTransportDefault: on a kernel with a BPF ring buffer Load picks it.
func TestTransportDefault(t *testing.T) {
	if perfMode {
		t.Skip("PODGUARD_TEST_PERF_BUFFER=1: every test uses the perf buffer")
	}
	r := sharedProbes(t)
	if err := probeRingBuffer(); err != nil {
		t.Skipf("kernel without a usable ring buffer: %v", err)
	}
	if got := r.p.Transport(); got != TransportRingBuffer {
		t.Errorf("Transport() = %q, want %q", got, TransportRingBuffer)
	}
	if typ := r.p.objs.Events.Type(); typ != ebpf.RingBuf {
		t.Errorf("events map is a %s, want a ring buffer", typ)
	}
}

// TestPerfBuffer runs the event, kill and drop tests again with
// Options.ForcePerfBuffer: the perf event array fallback for kernels
// before 5.8, used here on a kernel that has a ring buffer.
func TestPerfBuffer(t *testing.T) {
	needRoot(t)
	was := perfMode
	perfMode = true
	t.Cleanup(func() { perfMode = was })
	r := sharedProbes(t)
	if got := r.p.Transport(); got != TransportPerfBuffer {
		t.Fatalf("Transport() = %q, want %q", got, TransportPerfBuffer)
	}
	st, err := r.p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Transport != TransportPerfBuffer {
		t.Errorf("Stats().Transport = %q, want %q", st.Transport, TransportPerfBuffer)
	}
	// The loaded object's event map is the perf event array and the
	// only reader is a perf reader: every event below came through it.
	if typ := r.p.objs.Events.Type(); typ != ebpf.PerfEventArray {
		t.Fatalf("events map is a %s, want a perf event array", typ)
	}
	if r.p.perf == nil || r.p.ring != nil {
		t.Fatalf("readers: perf %v ring %v, want the perf reader only", r.p.perf != nil, r.p.ring != nil)
	}

	// TestKindMask and TestHostSilent are left out: they use a later
	// event as a barrier, which needs the ring buffer's single order
	// (perf buffers are per CPU). TestHostMonitoring loads its own.
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"ThroughPerfMap", perfMapCarriesEvents},
		{"ExecEvent", TestExecEvent},
		{"ForkExitCode", TestForkExitCode},
		{"ExecFromMemfd", TestExecFromMemfd},
		{"ExecWithSocketStdin", TestExecWithSocketStdin},
		{"OpenRelativeToCwd", TestOpenRelativeToCwd},
		{"OpenRelativeToDirfd", TestOpenRelativeToDirfd},
		{"FileSyscalls", TestFileSyscalls},
		{"Connect", TestConnect},
		{"PrivilegeSyscalls", TestPrivilegeSyscalls},
		{"IA32Syscalls", TestIA32Syscalls},
		{"KillMemfdExec", TestKillMemfdExec},
		{"KillReverseShell", TestKillReverseShell},
		{"KillUnshare", TestKillUnshare},
		{"KillDrift", TestKillDrift},
		{"StormDropsAreCounted", func(t *testing.T) { stormDrops(t, true) }},
	} {
		t.Run(tc.name, tc.test)
	}
}

// perfMapCarriesEvents: an exec in a watched cgroup arrives and is
// counted as delivered by the probes whose only reader is the perf one.
func perfMapCarriesEvents(t *testing.T) {
	r := sharedProbes(t)
	before, err := r.p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	cg := r.newCgroup(t, KindsOf(KindExec), 0)
	cg.run(t, exec.Command("/bin/busybox", "true"))
	cg.waitFor(t, "exec", isKind(KindExec))
	after, err := r.p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after.Of(KindExec).Delivered <= before.Of(KindExec).Delivered || after.DecodeErrors != 0 {
		t.Errorf("exec delivered %d -> %d, decode errors %d: want more, and 0",
			before.Of(KindExec).Delivered, after.Of(KindExec).Delivered, after.DecodeErrors)
	}
}

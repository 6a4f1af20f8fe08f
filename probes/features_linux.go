//go:build linux

package probes

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// rawTracepoints are the hooks Load attaches.
var rawTracepoints = []string{"sched_process_exec", "sched_process_fork", "sched_process_exit", "sys_enter"}

// ProbeFeatures checks the running kernel once. Only nil and
// ErrNotSupported from a probe are conclusive; anything else is reported
// as absent with the error in Detail. It needs root for the BPF checks.
func ProbeFeatures() []Feature {
	fs := []Feature{btfFeature()}
	fs = append(fs,
		verdict("ring buffer", probeRingBuffer(), "BPF_MAP_TYPE_RINGBUF",
			"perf buffer (per-CPU perf event array): events of different CPUs may arrive out of order"),
		verdict("raw tracepoints", features.HaveProgramType(ebpf.RawTracepoint), "BPF_PROG_TYPE_RAW_TRACEPOINT", ""),
		verdict("bpf_send_signal", features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnSendSignal),
			"helper in raw tracepoint programs", "no in-kernel kill: userspace terminates after the event"),
		verdict("bpf_tail_call", features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnTailCall),
			"syscall dispatch from raw_syscalls:sys_enter", ""),
		verdict("bpf_probe_read_{user,kernel}", features.HaveProgramHelper(ebpf.RawTracepoint, asm.FnProbeReadKernel),
			"helpers in raw tracepoint programs (Linux 5.5)", ""),
	)
	for _, name := range rawTracepoints {
		fs = append(fs, rawTracepointFeature(name))
	}
	fs = append(fs, syscallHookFeature())
	fs = append(fs, lsmFeature(), fentryFeature())
	fs = append(fs, uringFeature())
	fs = append(fs,
		verdict("tc (clsact + sched_cls)", features.HaveProgramType(ebpf.SchedCLS), "BPF_PROG_TYPE_SCHED_CLS", ""),
		tcxFeature(),
		cgroupFeature(),
	)
	return fs
}

func verdict(name string, err error, what, fallback string) Feature {
	f := Feature{Name: name, Detail: what, Fallback: fallback}
	switch {
	case err == nil:
		f.Present = true
	case errors.Is(err, ebpf.ErrNotSupported):
		f.Detail = what + ": not supported"
	default:
		f.Detail = fmt.Sprintf("%s: unknown: %v", what, err)
	}
	return f
}

func btfFeature() Feature {
	f := Feature{Name: "BTF (CO-RE)", Detail: "/sys/kernel/btf/vmlinux"}
	if _, err := btf.LoadKernelSpec(); err != nil {
		f.Detail = fmt.Sprintf("load kernel BTF: %v", err)
		return f
	}
	f.Present = true
	return f
}

func trivialProgram(t ebpf.ProgramType, at ebpf.AttachType) (*ebpf.Program, error) {
	return ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         t,
		AttachType:   at,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
}

// rawTracepointFeature attaches a do-nothing program to name and detaches.
func rawTracepointFeature(name string) Feature {
	f := Feature{Name: "raw_tracepoint/" + name, Detail: "attach a no-op program"}
	prog, err := trivialProgram(ebpf.RawTracepoint, ebpf.AttachNone)
	if err != nil {
		f.Detail = fmt.Sprintf("load probe program: %v", err)
		return f
	}
	defer prog.Close()
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: name, Program: prog})
	if err != nil {
		f.Detail = fmt.Sprintf("attach: %v", err)
		return f
	}
	l.Close()
	f.Present = true
	return f
}

// tcxFeature asks for a tcx link on an interface index that cannot
// exist: a kernel with tcx answers "no such device", one without rejects
// the attach type. Nothing is attached either way.
func tcxFeature() Feature {
	f := Feature{Name: "tcx", Detail: "BPF_LINK_CREATE tcx_ingress", Fallback: "clsact qdisc with a direct-action filter"}
	prog, err := trivialProgram(ebpf.SchedCLS, ebpf.AttachTCXIngress)
	if err != nil {
		f.Detail = fmt.Sprintf("load sched_cls program with tcx attach type: %v", err)
		return f
	}
	defer prog.Close()
	l, err := link.AttachTCX(link.TCXOptions{Interface: 0x7ffffff0, Program: prog, Attach: ebpf.AttachTCXIngress})
	switch {
	case err == nil:
		l.Close()
		f.Present = true
	case errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO):
		f.Present = true
	case errors.Is(err, ebpf.ErrNotSupported):
		f.Detail += ": not supported"
	default:
		f.Detail = fmt.Sprintf("%s: unknown: %v", f.Detail, err)
	}
	return f
}

// cgroupFeature reports the cgroup mode in cgroupfs's words, the ones
// `podguard status` prints.
func cgroupFeature() Feature {
	l := cgroupfs.Detect()
	f := Feature{Name: "cgroup v2", Detail: "mode " + l.Mode.String()}
	if l.Root != "" {
		f.Present = true
		f.Detail += ", cgroup2 at " + l.Root
		return f
	}
	if _, err := os.Stat(cgroupfs.Dir); err != nil {
		f.Detail = "no " + cgroupfs.Dir
	}
	f.Fallback = "none: events carry a cgroup v2 id; mount cgroup2 (hybrid) to watch pods"
	return f
}

// syscallTracepointsFaultable reports whether the kernel runs syscall
// tracepoints "faultable": raw tracepoint programs attached to sys_enter
// then run with migration but not preemption disabled (Debian's 7.2:
// bpf_trace_run2 takes migrate_disable only, and __traceiter_sys_enter
// is called preemptible), while the perf handler of
// raw_syscalls:sys_enter still disables preemption around its programs.
// The marker is the kernel function trace_call_bpf_faultable in the
// kernel's BTF, which came with that change; none of Debian's 5.10, 6.1,
// 6.12 or the 6.18 build VM have it.
func syscallTracepointsFaultable() (bool, error) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return false, err
	}
	var fn *btf.Func
	err = spec.TypeByName("trace_call_bpf_faultable", &fn)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, btf.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

func syscallHookFeature() Feature {
	f := Feature{Name: "non-preemptible raw tracepoint on sys_enter", Present: true,
		Detail: "raw_tracepoint/sys_enter programs run with preemption disabled"}
	faultable, err := syscallTracepointsFaultable()
	switch {
	case err != nil:
		f.Detail = fmt.Sprintf("unknown: %v", err)
	case faultable:
		f.Present = false
		f.Detail = "faultable syscall tracepoints (trace_call_bpf_faultable): raw tracepoint programs on sys_enter run preemptibly"
	}
	f.Fallback = "tracepoint/raw_syscalls/sys_enter (perf event program; runs with preemption disabled)"
	return f
}

// probeRingBuffer reports whether the kernel has BPF ring buffers: nil,
// ErrNotSupported, or an inconclusive error.
func probeRingBuffer() error {
	return features.HaveMapType(ebpf.RingBuf)
}

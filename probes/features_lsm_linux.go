//go:build linux

package probes

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// chooseHookSet picks HookSetLSM where a BPF-LSM program runs
// (probeLSM), else HookSetFentry where an fentry program on
// security_file_open runs (probeFentry), else HookSetTracepoints; forced,
// when set, is used as is. Only nil from a probe picks its set.
func chooseHookSet(forced HookSet) (HookSet, string) {
	if forced != "" {
		return forced, "forced (Options.HookSet)"
	}
	lsmErr := probeLSM()
	if lsmErr == nil {
		return HookSetLSM, "a BPF-LSM program on file_open runs"
	}
	fentryErr := probeFentry()
	if fentryErr == nil {
		return HookSetFentry, "no BPF-LSM (" + lsmErr.Error() + "); an fentry program on security_file_open runs"
	}
	return HookSetTracepoints, "no BPF-LSM: " + lsmErr.Error() + "; no fentry: " + fentryErr.Error()
}

// ProbeHookSet is the hook set Load would choose on this kernel, and why
// (what `podguard kernel` prints). Needs root.
func ProbeHookSet() (HookSet, string) {
	return chooseHookSet("")
}

// errNotRun: a probe program attached but the kernel never ran it.
var errNotRun = errors.New("attached, but the kernel did not run it")

// probeLSM checks that a BPF-LSM program on file_open runs (probeRuns):
// CONFIG_BPF_LSM, "bpf" among the active LSMs, not locked down. Without
// CONFIG_BPF_LSM or under lockdown the load fails; with BPF-LSM built in
// but not active (Debian 11's default lsm=) the program loads and
// attaches but is never called.
func probeLSM() error {
	err := probeRuns(ebpf.LSM, ebpf.AttachLSMMac, "file_open", func(p *ebpf.Program) (link.Link, error) {
		return link.AttachLSM(link.LSMOptions{Program: p})
	})
	if errors.Is(err, errNotRun) {
		return fmt.Errorf(`an lsm/file_open program %w: "bpf" is not among the active LSMs (lsm= on the kernel command line)`, err)
	}
	if err != nil {
		return fmt.Errorf("an lsm/file_open program: %w", err)
	}
	return nil
}

// probeFentry checks that an fentry program on security_file_open runs
// (probeRuns): BPF trampolines, the function in BTF, not locked down.
func probeFentry() error {
	err := probeRuns(ebpf.Tracing, ebpf.AttachTraceFEntry, "security_file_open", func(p *ebpf.Program) (link.Link, error) {
		return link.AttachTracing(link.TracingOptions{Program: p, AttachType: ebpf.AttachTraceFEntry})
	})
	if err != nil {
		return fmt.Errorf("an fentry/security_file_open program: %w", err)
	}
	return nil
}

// trampolineGuard is nil where BPF trampolines (LSM and fentry programs)
// have the recursion guard of Linux 5.12, seen in the kernel's BTF as the
// field misses of struct bpf_prog_stats. Before it they are not used: on
// Debian 11's 5.10, detaching them stalled the guest (both CPUs in soft
// lockup inside Probes.Close) in 7 of 24 qemu boots, and never on 6.1,
// 6.12 or 7.2 (kernels.md). The guard is the first marker that tells
// those kernels apart, not a known cause.
func trampolineGuard() error {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return fmt.Errorf("kernel BTF: %w", err)
	}
	var st *btf.Struct
	if err := spec.TypeByName("bpf_prog_stats", &st); err != nil {
		return fmt.Errorf("kernel BTF: bpf_prog_stats: %w", err)
	}
	for _, m := range st.Members {
		if m.Name == "misses" {
			return nil
		}
	}
	return errors.New("not used before Linux 5.12 (BPF trampolines without the recursion guard, bpf_prog_stats.misses): " +
		"detaching them stalled 5.10 guests (kernels.md)")
}

// probeRuns loads a program of type typ for the file open hook to that
// marks a map, attaches it, opens a file and detaches: nil when the
// kernel ran it, errNotRun when it attached but never ran.
func probeRuns(typ ebpf.ProgramType, at ebpf.AttachType, to string, attach func(*ebpf.Program) (link.Link, error)) error {
	if err := trampolineGuard(); err != nil {
		return err
	}
	ran, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return fmt.Errorf("create the probe's map: %w", err)
	}
	defer ran.Close()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:       typ,
		AttachType: at,
		AttachTo:   to,
		License:    "GPL",
		Instructions: asm.Instructions{ // ran[0] = 1; return 0
			asm.StoreImm(asm.R10, -4, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, ran.FD()),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
		},
	})
	if errors.Is(err, unix.EPERM) {
		// cilium/ebpf's hint about MEMLOCK does not apply: the kernel
		// refuses the program type or its attach target
		return fmt.Errorf("load: %w (not built in, or lockdown)", unix.EPERM)
	}
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer prog.Close()
	l, err := attach(prog)
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	defer l.Close()
	if f, err := os.Open("/proc/self/stat"); err == nil { // any open calls file_open
		f.Close()
	}
	var v uint64
	if err := ran.Lookup(uint32(0), &v); err != nil {
		return fmt.Errorf("read the probe's map: %w", err)
	}
	if v == 0 {
		return errNotRun
	}
	return nil
}

// lsmFeature is probeLSM as `podguard kernel` shows it.
func lsmFeature() Feature {
	return hookFeature("BPF-LSM (file_open, socket_connect)", "an lsm/file_open program runs", probeLSM(),
		"fentry on security_file_open and security_socket_connect, else the syscall exit")
}

// fentryFeature is probeFentry as `podguard kernel` shows it.
func fentryFeature() Feature {
	return hookFeature("fentry (security_file_open, security_socket_connect)", "an fentry/security_file_open program runs",
		probeFentry(), "opens and connects judged at syscall exit (raw_syscalls:sys_exit) where BPF-LSM is missing too")
}

func hookFeature(name, detail string, err error, fallback string) Feature {
	f := Feature{Name: name, Present: err == nil, Detail: detail, Fallback: fallback}
	if err != nil {
		f.Detail = err.Error()
	}
	return f
}

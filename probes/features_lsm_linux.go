//go:build linux

package probes

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// chooseHookSet picks HookSetLSM where a BPF-LSM program runs
// (probeLSM), else HookSetTracepoints; forced, when set, is used as is.
// Only nil from the probe picks LSM.
func chooseHookSet(forced HookSet) (HookSet, string) {
	if forced != "" {
		return forced, "forced (Options.HookSet)"
	}
	if err := probeLSM(); err != nil {
		return HookSetTracepoints, "no BPF-LSM: " + err.Error()
	}
	return HookSetLSM, "a BPF-LSM program on file_open runs"
}

// ProbeHookSet is the hook set Load would choose on this kernel, and why
// (what `podguard kernel` prints). Needs root.
func ProbeHookSet() (HookSet, string) {
	return chooseHookSet("")
}

// errLSMInactive: a BPF-LSM program attached but the kernel never ran it.
var errLSMInactive = errors.New(`an lsm/file_open program attached, but the kernel does not run it: "bpf" is not among the active LSMs (lsm= on the kernel command line)`)

// probeLSM loads a BPF-LSM program for file_open that marks a map,
// attaches it, opens a file and detaches: nil when the kernel ran it
// (CONFIG_BPF_LSM, "bpf" among the active LSMs, not locked down).
// Without CONFIG_BPF_LSM or under lockdown the load fails. With BPF-LSM
// built in but not active (Debian 11's default lsm=) the program loads
// and attaches but is never called: errLSMInactive.
func probeLSM() error {
	ran, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		return fmt.Errorf("create the BPF-LSM probe's map: %w", err)
	}
	defer ran.Close()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:       ebpf.LSM,
		AttachType: ebpf.AttachLSMMac,
		AttachTo:   "file_open",
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
		return fmt.Errorf("load an lsm/file_open program: %w (BPF-LSM not built in, or lockdown)", unix.EPERM)
	}
	if err != nil {
		return fmt.Errorf("load an lsm/file_open program: %w", err)
	}
	defer prog.Close()
	l, err := link.AttachLSM(link.LSMOptions{Program: prog})
	if err != nil {
		return fmt.Errorf("attach an lsm/file_open program: %w", err)
	}
	defer l.Close()
	if f, err := os.Open("/proc/self/stat"); err == nil { // any open calls file_open
		f.Close()
	}
	var v uint64
	if err := ran.Lookup(uint32(0), &v); err != nil {
		return fmt.Errorf("read the BPF-LSM probe's map: %w", err)
	}
	if v == 0 {
		return errLSMInactive
	}
	return nil
}

// lsmFeature is probeLSM as `podguard kernel` shows it.
func lsmFeature() Feature {
	f := Feature{Name: "BPF-LSM (file_open, socket_connect)", Present: true,
		Detail:   "an lsm/file_open program runs",
		Fallback: "opens and connects judged at syscall exit (raw_syscalls:sys_exit)"}
	if err := probeLSM(); err != nil {
		f.Present = false
		f.Detail = err.Error()
		if errors.Is(err, ebpf.ErrNotSupported) {
			f.Detail += " (kernel without CONFIG_BPF_LSM)"
		}
	}
	return f
}

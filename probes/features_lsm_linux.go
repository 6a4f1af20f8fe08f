//go:build linux

package probes

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// chooseHookSet picks HookSetLSM where a BPF-LSM program attaches
// (probeLSM), else HookSetTracepoints; forced, when set, is used as is.
// Only nil from the probe picks LSM.
func chooseHookSet(forced HookSet) (HookSet, string) {
	if forced != "" {
		return forced, "forced (Options.HookSet)"
	}
	if err := probeLSM(); err != nil {
		return HookSetTracepoints, "no BPF-LSM: " + err.Error()
	}
	return HookSetLSM, "a BPF-LSM program attaches to file_open"
}

// ProbeHookSet is the hook set Load would choose on this kernel, and why
// (what `podguard kernel` prints). Needs root.
func ProbeHookSet() (HookSet, string) {
	return chooseHookSet("")
}

// probeLSM loads a no-op BPF-LSM program for file_open and attaches and
// detaches it: nil when the kernel runs BPF-LSM programs (CONFIG_BPF_LSM,
// "bpf" in lsm=, not locked down). Without CONFIG_BPF_LSM the load fails
// (no bpf_lsm_file_open in BTF, or the program type is unknown); with it
// but "bpf" not among the active LSMs the attach fails.
func probeLSM() error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.LSM,
		AttachType:   ebpf.AttachLSMMac,
		AttachTo:     "file_open",
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
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
	return l.Close()
}

// lsmFeature is probeLSM as `podguard kernel` shows it.
func lsmFeature() Feature {
	f := Feature{Name: "BPF-LSM (file_open, socket_connect)", Present: true,
		Detail:   "attach a no-op lsm/file_open program",
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

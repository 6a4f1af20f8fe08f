package bench

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// EmptyTP is the floor for any per-syscall hook: a raw tracepoint program
// on raw_syscalls:sys_enter that returns at once, attached for every task.
// podguard's hook is the same raw tracepoint, so what it costs beyond this
// is its own work.
type EmptyTP struct {
	prog *ebpf.Program
	lnk  link.Link
}

func (e *EmptyTP) Name() string { return "empty-raw-tp" }

func (e *EmptyTP) Start(...uint64) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "bench_empty",
		Type:         ebpf.RawTracepoint,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return fmt.Errorf("load empty program: %w", err)
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
	if err != nil {
		prog.Close()
		return fmt.Errorf("attach sys_enter: %w", err)
	}
	e.prog, e.lnk = prog, l
	return nil
}

func (e *EmptyTP) Stop() error {
	if e.lnk != nil {
		e.lnk.Close()
		e.prog.Close()
	}
	e.lnk, e.prog = nil, nil
	return nil
}

func (e *EmptyTP) PIDs() []int                           { return nil }
func (e *EmptyTP) Counts(string) (uint64, uint64, error) { return 0, 0, nil }

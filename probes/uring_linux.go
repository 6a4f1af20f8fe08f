//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// attachURing attaches the submit program where the tracepoint exists; a
// kernel without it keeps every other hook (io_uring_setup is still seen
// at the syscall) and the log says so.
func (p *Probes) attachURing(h uringHook) error {
	if h.name == "" {
		p.log.Info("io_uring submissions not hooked", "reason", h.why)
		return nil
	}
	prog := p.objs.UringSubmit
	if h.opOnly {
		prog = p.objs.UringSubmitOp2
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.name, Program: prog})
	if err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			p.log.Info("io_uring submissions not hooked", "tracepoint", h.name, "reason", err)
			return nil
		}
		return fmt.Errorf("attach raw tracepoint %s: %w", h.name, err)
	}
	p.links = append(p.links, l)
	p.attached = append(p.attached, "raw_tracepoint/"+h.name)
	p.log.Info("io_uring submissions hooked", "tracepoint", h.name, "opcode_only", h.opOnly)
	return nil
}

//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// setURingSpec sets the tracepoint's argument positions in spec.
func setURingSpec(spec *ebpf.CollectionSpec, h uringHook) error {
	if err := spec.Variables[probeVarUringReqArg].Set(h.reqArg); err != nil {
		return fmt.Errorf("set uring_req_arg: %w", err)
	}
	if err := spec.Variables[probeVarUringOpArg].Set(h.opArg); err != nil {
		return fmt.Errorf("set uring_op_arg: %w", err)
	}
	return nil
}

// attachURing attaches the submit program where the tracepoint exists; a
// kernel without it keeps every other hook (io_uring_setup is still seen
// at the syscall) and the log says so.
func (p *Probes) attachURing(h uringHook) error {
	if h.name == "" {
		p.log.Info("io_uring submissions not hooked", "reason", h.why)
		return nil
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.name, Program: p.objs.UringSubmit})
	if err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			p.log.Info("io_uring submissions not hooked", "tracepoint", h.name, "reason", err)
			return nil
		}
		return fmt.Errorf("attach raw tracepoint %s: %w", h.name, err)
	}
	p.links = append(p.links, l)
	p.attached = append(p.attached, "raw_tracepoint/"+h.name)
	return nil
}

//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// uringHook is io_uring's submit tracepoint on this kernel and where its
// arguments are: the struct io_kiocb pointer (6.x io_uring_submit_req,
// 5.15's io_uring_submit_sqe) or, without one (5.10), the opcode.
type uringHook struct {
	name   string
	reqArg uint32 // index of the io_kiocb pointer, or uringNoReq
	opArg  uint32 // index of the opcode when reqArg is uringNoReq
	why    string // when name is "": why there is none
}

const uringNoReq = 0xff // bpf/uring.h URING_NO_REQ

// findURingHook reads the tracepoint's prototype from the kernel's BTF
// (the typedef btf_trace_<name> every tracepoint has).
func findURingHook() uringHook {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return uringHook{why: fmt.Sprintf("kernel BTF unreadable: %v", err)}
	}
	for _, name := range []string{"io_uring_submit_req", "io_uring_submit_sqe"} {
		var td *btf.Typedef
		if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
			continue
		}
		h, ok := uringArgs(td)
		if !ok {
			return uringHook{why: name + " has arguments podguard does not know"}
		}
		h.name = name
		return h
	}
	return uringHook{why: "kernel has no io_uring submit tracepoint (no io_uring, or another name)"}
}

// uringArgs finds the io_kiocb pointer (or the u8 opcode) among the
// tracepoint's arguments; the prototype's first parameter is the
// tracepoint's private data, not an argument.
func uringArgs(td *btf.Typedef) (uringHook, bool) {
	ptr, ok := td.Type.(*btf.Pointer)
	if !ok {
		return uringHook{}, false
	}
	proto, ok := ptr.Target.(*btf.FuncProto)
	if !ok || len(proto.Params) < 2 {
		return uringHook{}, false
	}
	params := proto.Params[1:]
	for i, p := range params {
		if pp, ok := btf.UnderlyingType(p.Type).(*btf.Pointer); ok {
			if s, ok := btf.UnderlyingType(pp.Target).(*btf.Struct); ok && s.Name == "io_kiocb" && i < 3 {
				return uringHook{reqArg: uint32(i)}, true
			}
		}
	}
	for i, p := range params {
		if in, ok := btf.UnderlyingType(p.Type).(*btf.Int); ok && in.Size == 1 && i < 3 {
			return uringHook{reqArg: uringNoReq, opArg: uint32(i)}, true
		}
	}
	return uringHook{}, false
}

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

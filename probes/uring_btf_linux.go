//go:build linux

package probes

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
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
		return uringHook{reqArg: uringNoReq, why: fmt.Sprintf("kernel BTF unreadable: %v", err)}
	}
	for _, name := range []string{"io_uring_submit_req", "io_uring_submit_sqe"} {
		var td *btf.Typedef
		if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
			continue
		}
		h, ok := uringArgs(td)
		if !ok {
			return uringHook{reqArg: uringNoReq, why: name + " has arguments podguard does not know"}
		}
		h.name = name
		return h
	}
	return uringHook{reqArg: uringNoReq, why: "kernel has no io_uring submit tracepoint (no io_uring, or another name)"}
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

// uringFeature is the io_uring submit tracepoint, as `podguard kernel`
// shows it.
func uringFeature() Feature {
	h := findURingHook()
	f := Feature{Name: "io_uring submit tracepoint",
		Fallback: "io_uring_setup is still seen (rule io-uring-in-container); opens, connects and writes submitted through io_uring are not"}
	switch {
	case h.name == "":
		f.Detail = h.why
	case h.reqArg == uringNoReq:
		f.Present = true
		f.Detail = h.name + ": the opcode only (no request in its arguments)"
	default:
		f.Present = true
		f.Detail = h.name + ": opcode, fd, open paths and connect addresses"
	}
	return f
}

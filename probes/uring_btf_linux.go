//go:build linux

package probes

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// uringHook is io_uring's submit tracepoint on this kernel and what its
// arguments give: the request (6.1's io_uring_submit_sqe, 6.12+'s
// io_uring_submit_req, first argument) or only the opcode (5.10's
// io_uring_submit_sqe, third argument).
type uringHook struct {
	name   string
	opOnly bool
	why    string // when name is "": why there is none
}

// findURingHook reads the tracepoint's prototype from the kernel's BTF
// (the typedef btf_trace_<name> every tracepoint has).
func findURingHook() uringHook {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return uringHook{why: fmt.Sprintf("kernel BTF unreadable: %v", err)}
	}
	return uringHookIn(spec)
}

// uringHookIn is findURingHook for the kernel whose BTF is spec.
func uringHookIn(spec *btf.Spec) uringHook {
	for _, name := range []string{"io_uring_submit_req", "io_uring_submit_sqe"} {
		var td *btf.Typedef
		if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
			continue
		}
		opOnly, ok := uringArgs(td)
		if !ok {
			return uringHook{why: name + " has arguments podguard does not know"}
		}
		return uringHook{name: name, opOnly: opOnly}
	}
	return uringHook{why: "kernel has no io_uring submit tracepoint (no io_uring, or another name)"}
}

// uringArgs tells the two prototypes the programs read apart: a struct
// io_kiocb pointer first, or a u8 opcode third. The prototype's first
// parameter is the tracepoint's private data, not an argument.
func uringArgs(td *btf.Typedef) (opOnly, ok bool) {
	ptr, isPtr := td.Type.(*btf.Pointer)
	if !isPtr {
		return false, false
	}
	proto, isProto := ptr.Target.(*btf.FuncProto)
	if !isProto || len(proto.Params) < 2 {
		return false, false
	}
	params := proto.Params[1:]
	if pp, isPtr := btf.UnderlyingType(params[0].Type).(*btf.Pointer); isPtr {
		if s, isStruct := btf.UnderlyingType(pp.Target).(*btf.Struct); isStruct && s.Name == "io_kiocb" {
			return false, true
		}
	}
	if len(params) > 2 {
		if in, isInt := btf.UnderlyingType(params[2].Type).(*btf.Int); isInt && in.Size == 1 {
			return true, true
		}
	}
	return false, false
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
	case h.opOnly:
		f.Present = true
		f.Detail = h.name + ": the opcode only (no request in its arguments)"
	default:
		f.Present = true
		f.Detail = h.name + ": opcode, fd, open paths and connect addresses"
	}
	return f
}

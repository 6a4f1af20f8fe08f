//go:build linux

package probes

import (
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestURingArgs: the submit tracepoint's prototypes in Debian's kernels
// (bpftool btf dump of each kernel's vmlinux) give the argument positions
// the program reads.
func TestURingArgs(t *testing.T) {
	voidp := &btf.Pointer{Target: &btf.Void{}}
	kiocb := &btf.Pointer{Target: &btf.Struct{Name: "io_kiocb"}}
	u8 := &btf.Int{Name: "u8", Size: 1}
	u32 := &btf.Int{Name: "u32", Size: 4}
	u64 := &btf.Int{Name: "u64", Size: 8}
	boolT := &btf.Int{Name: "bool", Size: 1, Encoding: btf.Bool}
	proto := func(params ...btf.Type) *btf.Typedef {
		ps := []btf.FuncParam{{Type: voidp}}
		for _, p := range params {
			ps = append(ps, btf.FuncParam{Type: p})
		}
		return &btf.Typedef{Name: "btf_trace_x", Type: &btf.Pointer{Target: &btf.FuncProto{Return: &btf.Void{}, Params: ps}}}
	}
	for _, c := range []struct {
		kernel string
		td     *btf.Typedef
		opOnly bool
	}{
		{"5.10 io_uring_submit_sqe(ctx, req, opcode, user_data, flags, force_nonblock, sq_thread)", proto(voidp, voidp, u8, u64, u32, boolT, boolT), true},
		{"6.1 io_uring_submit_sqe(req, force_nonblock)", proto(kiocb, boolT), false},
		{"6.12+ io_uring_submit_req(req)", proto(kiocb), false},
	} {
		opOnly, ok := uringArgs(c.td)
		if !ok || opOnly != c.opOnly {
			t.Errorf("%s: ok %v opcode only %v, want %v", c.kernel, ok, opOnly, c.opOnly)
		}
	}
	if _, ok := uringArgs(proto(u64, u64, u64, u64)); ok {
		t.Error("a prototype with neither a request nor an opcode was accepted")
	}
}

//go:build linux && amd64

package probes

import (
	"bytes"
	"debug/elf"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// TestCORERelocatesOnOtherKernels relocates the probes against the BTF of
// each kernel `make kernels` downloaded (Debian's 5.10, 6.1, 6.12, 7.2)
// and loads the result here: a CO-RE read left unguarded for a field an
// older or newer kernel lacks (or types differently) is a poisoned
// instruction the verifier rejects. It checks relocation only; the
// kernels' own verifiers run in `make kernels`. Skipped when the kernels
// were never downloaded.
func TestCORERelocatesOnOtherKernels(t *testing.T) {
	needRoot(t)
	dirs, _ := filepath.Glob("/var/cache/podguard-kernels/vmlinux/*/vmlinux")
	if len(dirs) == 0 {
		t.Skip("no kernels in /var/cache/podguard-kernels (make kernels downloads them)")
	}
	for _, path := range dirs {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			kspec, err := vmlinuxBTF(path)
			if err != nil {
				t.Fatalf("load BTF: %v", err)
			}
			spec, err := loadProbe()
			if err != nil {
				t.Fatal(err)
			}
			h := uringHookIn(kspec)
			t.Logf("io_uring hook %q opcode only %v %s", h.name, h.opOnly, h.why)
			lsmTargetsIn(t, kspec)
			// the LSM programs' bodies, relocated for that kernel, are
			// verified here as raw tracepoint programs (this kernel
			// cannot load LSM programs): as on a kernel without BPF-LSM
			prepareHookSet(spec, HookSetTracepoints)
			var objs probeObjects
			err = spec.LoadAndAssign(&objs, &ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{KernelTypes: kspec}})
			if err != nil {
				t.Fatalf("load relocated for %s: %v", path, verifierTail(err))
			}
			objs.Close()
		})
	}
}

// lsmTargetsIn checks that kspec has the BPF-LSM attach points of
// bpf/lsm.h with the arguments the programs read (the hook's arguments,
// then the previous program's return value).
func lsmTargetsIn(t *testing.T, kspec *btf.Spec) {
	t.Helper()
	for _, want := range []struct {
		fn     string
		params []string // the pointed-to struct of each pointer argument, "" for a scalar
	}{
		{"bpf_lsm_file_open", []string{"file"}},
		{"bpf_lsm_socket_connect", []string{"socket", "sockaddr", ""}},
	} {
		var fn *btf.Func
		if err := kspec.TypeByName(want.fn, &fn); err != nil {
			t.Errorf("%s: %v", want.fn, err)
			continue
		}
		params := fn.Type.(*btf.FuncProto).Params
		var got []string
		for _, p := range params {
			name := ""
			if ptr, ok := btf.UnderlyingType(p.Type).(*btf.Pointer); ok {
				name = btf.UnderlyingType(ptr.Target).TypeName()
			}
			got = append(got, name)
		}
		if fmt.Sprint(got) != fmt.Sprint(want.params) {
			t.Errorf("%s takes %v, lsm.h reads %v", want.fn, got, want.params)
		}
	}
}

// vmlinuxBTF reads the .BTF section of a (stripped) vmlinux.
func vmlinuxBTF(path string) (*btf.Spec, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".BTF")
	if sec == nil {
		return nil, fmt.Errorf("%s has no .BTF section", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	return btf.LoadSpecFromReader(bytes.NewReader(data))
}

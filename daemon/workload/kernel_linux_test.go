package workload_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/test/node"
)

// kernelCgroupIDOfExec loads a raw tracepoint program on sched_process_exec
// that records bpf_get_current_cgroup_id() of the first task that execs a
// binary named "pgprobe", runs exec, and returns what the kernel reported.
func kernelCgroupIDOfExec(t *testing.T, exec func()) uint64 {
	t.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatalf("create map: %v", err)
	}
	defer m.Close()
	comm := binary.LittleEndian.Uint64([]byte("pgprobe\x00"))
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.RawTracepoint,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, -16),
			asm.Mov.Imm(asm.R2, 16),
			asm.FnGetCurrentComm.Call(),
			asm.LoadMem(asm.R1, asm.RFP, -16, asm.DWord),
			asm.LoadImm(asm.R2, int64(comm), asm.DWord),
			asm.JNE.Reg(asm.R1, asm.R2, "out"),
			asm.FnGetCurrentCgroupId.Call(),
			asm.StoreMem(asm.RFP, -24, asm.R0, asm.DWord),
			asm.StoreImm(asm.RFP, -28, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -28),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -24),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatalf("load program: %v", err)
	}
	defer prog.Close()
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sched_process_exec", Program: prog})
	if err != nil {
		t.Fatalf("attach raw tracepoint sched_process_exec: %v", err)
	}
	defer l.Close()
	exec()
	var id uint64
	if err := m.Lookup(uint32(0), &id); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Fatalf("read map: %v", err)
	}
	if id == 0 {
		t.Fatal("the kernel recorded no exec of pgprobe")
	}
	return id
}

// The id BPF sees for a container's process resolves to that container.
func TestKernelCgroupIDResolvesToPod(t *testing.T) {
	n := node.Start(t)
	r := startResolver(t, n)
	p := n.CreatePod(t, node.PodSpec{Name: "bpf", Labels: map[string]string{"app": "php"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	waitFor(t, "container in index", lookup(r, p.CgroupID("app")))
	kernelID := kernelCgroupIDOfExec(t, func() {
		p.Exec(t, "app", "sh", "-c", "cp /bin/busybox /tmp/pgprobe && /tmp/pgprobe true")
	})
	if kernelID != p.CgroupID("app") {
		t.Fatalf("bpf_get_current_cgroup_id() = %d, cgroup dir inode = %d", kernelID, p.CgroupID("app"))
	}
	id, ok := r.Lookup(kernelID)
	if !ok || id.Kind != workload.KindWorkload || id.Container.Name != "app" || id.Pod.UID != p.UID || id.Pod.Labels["app"] != "php" {
		t.Fatalf("Lookup(kernel id %d) = %+v %v", kernelID, id, ok)
	}
}

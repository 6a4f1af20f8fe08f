//go:build linux

package probes

import (
	"os"
	"testing"

	"github.com/podguard/podguard/probes/cgroupfs"
)

// TestProbeFeatures: everything Load needs is reported present on a
// kernel where Load works, and the cgroup mode is cgroupfs's, with the
// real cgroup2 mount.
func TestProbeFeatures(t *testing.T) {
	needRoot(t)
	fs := ProbeFeatures()
	byName := map[string]Feature{}
	for _, f := range fs {
		t.Logf("%-34s present=%-5v %s", f.Name, f.Present, f.Detail)
		byName[f.Name] = f
	}
	for _, name := range []string{"BTF (CO-RE)", "ring buffer", "raw tracepoints", "bpf_send_signal", "bpf_tail_call", "bpf_probe_read_{user,kernel}",
		"raw_tracepoint/sched_process_exec", "raw_tracepoint/sys_enter", "cgroup v2"} {
		if f, ok := byName[name]; !ok || !f.Present {
			t.Errorf("%s: %+v, want present", name, f)
		}
	}
	l := cgroupfs.Detect()
	if st, err := os.Stat(l.Root + "/cgroup.procs"); err != nil || st.IsDir() {
		t.Errorf("cgroup mode %s path %q has no cgroup.procs: %v", l.Mode, l.Root, err)
	}
	if want := "mode " + l.Mode.String() + ", cgroup2 at " + l.Root; byName["cgroup v2"].Detail != want {
		t.Errorf("cgroup v2 detail %q, want %q", byName["cgroup v2"].Detail, want)
	}
}

func TestHandledNrs(t *testing.T) {
	bits := handledNrs()
	has := func(nr uint32) bool { return bits[nr/64]&(1<<(nr%64)) != 0 }
	for _, nr := range []uint32{2, 257, 295, 42, 102, 22, 319} { // open, openat, ia32 openat, connect, socketcall, ia32 umount, memfd_create
		if !has(nr) {
			t.Errorf("syscall %d not in handled_nrs", nr)
		}
	}
	for _, nr := range []uint32{0, 1, 3, 60, 231} { // read, write, close, exit, exit_group
		if has(nr) {
			t.Errorf("syscall %d in handled_nrs: it has no handler", nr)
		}
	}
}

//go:build linux

package probes

import (
	"os"
	"testing"
)

// TestProbeFeatures: everything Load needs is reported present on a
// kernel where Load works, and the cgroup2 path is the real mount.
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
	mode, path := CgroupMode()
	if st, err := os.Stat(path + "/cgroup.procs"); err != nil || st.IsDir() {
		t.Errorf("cgroup mode %s path %q has no cgroup.procs: %v", mode, path, err)
	}
}

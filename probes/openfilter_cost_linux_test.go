//go:build linux && amd64

package probes

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// catalogOpenFilter is engine.OpenFilter of the whole catalog (logged by
// daemon/engine's TestOpenRulesDeclareInterest), copied here because this
// package cannot import the engine.
var catalogOpenFilter = &OpenFilter{
	PathPrefixes: []string{"/dev/dm-", "/dev/hd", "/dev/kmem", "/dev/mem", "/dev/mmcblk", "/dev/nvme", "/dev/port", "/dev/sd", "/dev/vd", "/dev/xvd",
		"/etc/gshadow", "/etc/kubernetes/pki/", "/etc/shadow", "/etc/sudoers", "/proc/kcore", "/var/lib/kubelet/pki/"},
	BasePrefixes: []string{"containerd.sock", "cri-dockerd.sock", "crio.sock", "docker.sock", "dockershim.sock", "environ", "id_", "mem", "podman.sock", "token"},
}

// TestOpenFilterCost measures, with the kernel's BPF run-time statistics,
// what the probes cost per open+close of a /dev/shm file that no rule
// matches, in a watched cgroup without and with the catalog's open
// prefilter, beside an unwatched cgroup and an empty raw tracepoint on
// sys_enter; and an open the filter passes (a basename prefix), for the
// filter's own cost on top of emitting. Opt-in (PODGUARD_OPENFILTER_COST=1; root): it runs 100 000
// open+close per case (PODGUARD_OPENFILTER_COST_N to change), three
// rounds, and logs the median of each.
//
//	PODGUARD_OPENFILTER_COST=1 go test -count=1 -run TestOpenFilterCost -v ./probes/
func TestOpenFilterCost(t *testing.T) {
	if os.Getenv("PODGUARD_OPENFILTER_COST") != "1" {
		t.Skip("opt-in: PODGUARD_OPENFILTER_COST=1 (root) measures the open prefilter with bpf_stats")
	}
	n := 100000
	if s := os.Getenv("PODGUARD_OPENFILTER_COST_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	t.Cleanup(func() { r.p.ClearOpenFilter() })
	// target matches no rule; hit is a basename the filter passes
	target, hit := "/dev/shm/podguard-openfilter-cost", "/dev/shm/id_podguard-openfilter-cost"
	for _, p := range []string{target, hit} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(p) })
	}
	if catalogOpenFilter.Passes(target, 0) || !catalogOpenFilter.Passes(hit, 0) {
		t.Fatalf("the catalog filter passes %s or hides %s", target, hit)
	}

	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Skipf("bpf_stats: %v", err)
	}
	defer stats.Close()

	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: empty})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	type sample struct{ probes, empty, runs float64 }
	measure := func(watched bool, f *OpenFilter, target string) sample {
		if err := r.p.SetOpenFilter(f); err != nil {
			t.Fatal(err)
		}
		if watched {
			err = r.p.SetWatched(cg.ID, KindsOf(KindOpen), 0)
		} else {
			err = r.p.Unwatch(cg.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		// opens are judged at sys_exit: the cost is both dispatchers'
		// (tail-called handlers count in their dispatcher's run time)
		p0, _ := r.p.objs.SysEnter.Stats()
		x0, _ := r.p.objs.SysExit.Stats()
		e0, _ := empty.Stats()
		cmd := cg.Command(triggerBin, "storm-open", target, strconv.Itoa(n))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("storm: %v %s", err, out)
		}
		p1, _ := r.p.objs.SysEnter.Stats()
		x1, _ := r.p.objs.SysExit.Stats()
		e1, _ := empty.Stats()
		per := func(a, b time.Duration) float64 { return float64(b-a) / float64(n) }
		return sample{per(p0.Runtime, p1.Runtime) + per(x0.Runtime, x1.Runtime), per(e0.Runtime, e1.Runtime), float64(p1.RunCount-p0.RunCount) / float64(n)}
	}
	cases := []struct {
		name    string
		watched bool
		f       *OpenFilter
		target  string
	}{
		{"unwatched cgroup", false, nil, target},
		{"watched, no filter", true, nil, target},
		{"watched, catalog filter", true, catalogOpenFilter, target},
		{"filter passes (id_*)", true, catalogOpenFilter, hit},
	}
	res := make([][]sample, len(cases))
	before, _ := r.p.Stats()
	for round := 0; round < 3; round++ {
		for i, c := range cases {
			res[i] = append(res[i], measure(c.watched, c.f, c.target))
			time.Sleep(100 * time.Millisecond) // let the reader drain
		}
	}
	after, _ := r.p.Stats()
	median := func(s []sample, f func(sample) float64) float64 {
		v := make([]float64, len(s))
		for i := range s {
			v[i] = f(s[i])
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	t.Logf("%d open+close of %s (last case: %s) per case, median of 3 rounds, ns per open+close (sys_enter runs per open+close):", n, target, hit)
	for i, c := range cases {
		t.Logf("  %-24s podguard %7.0f ns (%.2f runs)   empty raw tracepoint %5.0f ns", c.name,
			median(res[i], func(s sample) float64 { return s.probes }), median(res[i], func(s sample) float64 { return s.runs }),
			median(res[i], func(s sample) float64 { return s.empty }))
	}
	b, a := before.Of(KindOpen), after.Of(KindOpen)
	t.Logf("open events delivered %d, ring drops %d, queue drops %d during the runs", a.Delivered-b.Delivered, a.RingDrops-b.RingDrops, a.QueueDrops-b.QueueDrops)
}

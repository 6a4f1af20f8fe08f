package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// These micro-benchmarks isolate the rule-evaluation step of podguard's
// pipeline (engine.Handle with the shipped default ruleset) from the
// kernel, the ring buffer and the outputs:
//
//	go test -run '^$' -bench Engine -benchmem -cpuprofile cpu.out ./test/bench/

type oneResolver struct{ id workload.Identity }

func (r oneResolver) Resolve(uint64, uint32) workload.Identity { return r.id }

const benchCgroup = 4242

func defaultEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "rules.d", "default.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	rs, probs := rulesets.Parse("default.toml", data)
	if rs == nil || len(probs) > 0 {
		tb.Fatalf("default ruleset: %v", probs)
	}
	e := engine.New(oneResolver{workload.Identity{Kind: workload.KindWorkload,
		Container: workload.Container{ID: "c1", Name: "app", Image: "podguard.test/busybox:1", CgroupID: benchCgroup, InitPID: 100},
		Pod:       workload.Pod{Name: "storm", Namespace: "default", UID: "0f4c9a1e-4b1d-4c55-9a43-2c1f5e0e7a11", Labels: map[string]string{"bench": "storm", "app": "x"}}}},
		engine.Self{PID: 7, Paths: []string{"/etc/podguard", "/var/lib/podguard"}})
	e.SetRules(&rulesets.Snapshot{Generation: 1, Rulesets: []*rulesets.Ruleset{rs}})
	// The container's init, then the workload process.
	e.Handle(&probes.Record{Kind: probes.KindExec, TGID: 100, PID: 100, PPID: 1, CgroupID: benchCgroup, Comm: "sleep", Exe: "/bin/busybox", Filename: "/bin/sleep", Args: []string{"sleep", "infinity"}, Cwd: "/"}, nil)
	e.Handle(&probes.Record{Kind: probes.KindFork, TGID: 200, PID: 200, PPID: 100, CgroupID: benchCgroup, Comm: "sleep"}, nil)
	e.Handle(&probes.Record{Kind: probes.KindExec, TGID: 200, PID: 200, PPID: 100, CgroupID: benchCgroup, Comm: "bench", Exe: "/bench", Filename: "/bench", Args: []string{"bench"}, Cwd: "/"}, nil)
	return e
}

func benchOpen(b *testing.B, path string, wantMatch bool) {
	e := defaultEngine(b)
	ev := &probes.Record{Kind: probes.KindOpen, TGID: 200, PID: 200, PPID: 100, CgroupID: benchCgroup, Comm: "bench",
		Path: path, RawPath: path, DirFD: -100}
	out := e.Handle(ev, nil)
	if (len(out) > 0) != wantMatch {
		b.Fatalf("open %s: %d matches", path, len(out))
	}
	b.ReportAllocs()
	for b.Loop() {
		out = e.Handle(ev, out[:0])
	}
}

func BenchmarkEngineOpenMiss(b *testing.B) { benchOpen(b, "/dev/shm/bench-file", false) }
func BenchmarkEngineOpenHit(b *testing.B)  { benchOpen(b, "/etc/shadow", true) }

// BenchmarkEngineExecStorm is one iteration of the exec storm as the
// engine sees it: fork, exec of busybox `true`, exit.
func BenchmarkEngineExecStorm(b *testing.B) {
	e := defaultEngine(b)
	fork := &probes.Record{Kind: probes.KindFork, TGID: 200, PID: 200, PPID: 100, CgroupID: benchCgroup, Comm: "bench", ChildPID: 300}
	exec := &probes.Record{Kind: probes.KindExec, TGID: 300, PID: 300, PPID: 200, CgroupID: benchCgroup, Comm: "true",
		Exe: "/bin/busybox", Filename: "/bin/true", Args: []string{"true"}, Cwd: "/"}
	exit := &probes.Record{Kind: probes.KindExit, TGID: 300, PID: 300, PPID: 200, CgroupID: benchCgroup, Comm: "true"}
	var out []engine.Match
	b.ReportAllocs()
	for b.Loop() {
		out = e.Handle(fork, out[:0])
		out = e.Handle(exec, out[:0])
		out = e.Handle(exit, out[:0])
	}
}

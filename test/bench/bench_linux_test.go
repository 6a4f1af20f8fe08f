//go:build bench

package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podguard/podguard/test/node"
	"github.com/podguard/podguard/test/testbin"
)

func TestMain(m *testing.M) {
	if RunChild() {
		os.Exit(0)
	}
	code := node.RunTests(m)
	testbin.Cleanup()
	os.Exit(code)
}

func TestBenchmarks(t *testing.T) {
	quick := os.Getenv("BENCH_QUICK") != ""
	reps := 3
	if v, err := strconv.Atoi(os.Getenv("BENCH_REPS")); err == nil && v > 0 {
		reps = v
	}
	out := os.Getenv("BENCH_OUT")
	if out == "" {
		out = filepath.Join(repoRoot(), "BENCHMARKS.md")
	}
	dir := t.TempDir()
	bin := os.Getenv("BENCH_PODGUARD_BIN") // a prebuilt binary, e.g. to compare a change
	if bin == "" {
		var err error
		if bin, err = buildPodguard(); err != nil {
			t.Fatal(err)
		}
	}
	n := node.Start(t)
	r := &Report{Started: time.Now().UTC(), Machine: machine(), Reps: reps, Quick: quick, Cells: map[string]map[string]*Cell{},
		Versions: map[string]string{"auditd": toolVersion("dpkg-query", "-W", "-f", "${Version}", "auditd"),
			"bpftrace": toolVersion("bpftrace", "--version"), "containerd": toolVersion("containerd", "--version")}}
	r.Shared = os.Getenv("BENCH_SHARED") != ""
	write := func() {
		if err := os.WriteFile(out, []byte(r.Markdown()), 0o644); err != nil {
			t.Errorf("write %s: %v", out, err)
		}
	}
	pg := &Podguard{Bin: bin, Dir: filepath.Join(dir, "pg"), Containerd: n.Socket(), Rules: benchRulesets}
	h := &Harness{T: t, N: n, PG: pg, R: r, Quick: quick, Reps: reps, Dir: dir, Only: map[string]bool{}}
	if base := os.Getenv("BENCH_BASELINE_BIN"); base != "" { // a build to compare with, side by side
		h.Before = &Podguard{Bin: base, Dir: filepath.Join(dir, "pg-before"), Containerd: n.Socket(), Rules: benchRulesets, Label: beforeLabel}
	}
	for _, a := range strings.Split(os.Getenv("BENCH_AGENTS"), ",") {
		if a != "" {
			h.Only[a] = true
		}
	}
	only := map[string]bool{}
	for _, s := range strings.Split(os.Getenv("BENCH_ONLY"), ",") {
		if s != "" {
			only[s] = true
		}
	}
	for _, s := range []struct {
		name string
		run  func()
	}{{"matrix", h.Matrix}, {"hook", h.Hook}, {"ladder", h.Ladder}, {"latency", h.Latency}, {"kill", h.Kill}, {"isolation", h.Isolation}, {"mixed", h.Mixed}, {"profile", h.Profile}, {"engine", func() { engineBenchmarks(r) }}} {
		if len(only) > 0 && !only[s.name] {
			continue
		}
		s.run()
		write()
	}
	if mountedTracefs {
		syscall.Unmount("/sys/kernel/tracing", 0) // put the host back as found
	}
	r.Finished = time.Now().UTC()
	write()
	fmt.Println("wrote", out)
}

// engineBenchmarks runs the rule-evaluation micro-benchmarks
// (engine_bench_test.go) in process and keeps their results.
func engineBenchmarks(r *Report) {
	for _, b := range []struct {
		name string
		fn   func(*testing.B)
	}{
		{"open, 0% matching (/dev/shm/bench-file)", BenchmarkEngineOpenMiss},
		{"open, matching (/etc/shadow)", BenchmarkEngineOpenHit},
		{"exec storm step (fork + exec + exit)", BenchmarkEngineExecStorm},
	} {
		res := testing.Benchmark(b.fn)
		r.Engine = append(r.Engine, EngineResult{Name: b.name, NsPerOp: float64(res.T.Nanoseconds()) / float64(res.N),
			AllocsPerOp: res.AllocsPerOp(), BytesPerOp: res.AllocedBytesPerOp()})
	}
}

//go:build linux && amd64

package probes

import (
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/test/cgrouptest"
)

// Run alone: go test -run '^$' -bench . ./probes
// (PODGUARD_TEST_PERF_BUFFER=1 for the perf buffer)
// Each benchmark runs the same storm (b.N operations in a helper process
// inside a cgroup) twice: without probes, then with probes loaded and the
// cgroup watched, and reports:
//   events/s          events delivered per second of the probed run
//   cpu-ns/event      extra CPU (workload + this process' reader) per event
//   workload-cpu-x    workload CPU with probes / without
//   wall-x            workload wall time with probes / without
//   unwatched-cpu-x   workload CPU with probes attached but its cgroup
//                     not watched / without probes (what host tasks pay)

func BenchmarkOpenStorm(b *testing.B) {
	target := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	benchStorm(b, KindOpen, func(n int) []string { return []string{"storm-open", target, strconv.Itoa(n)} })
}

func BenchmarkExecStorm(b *testing.B) {
	benchStorm(b, KindExec, func(n int) []string { return []string{"storm-exec", strconv.Itoa(n)} })
}

type stormRun struct {
	wall, cpu, self time.Duration
}

func benchStorm(b *testing.B, kind Kind, args func(n int) []string) {
	needRoot(b)
	for _, r := range []*router{&shared, &sharedPerf} {
		if r.p != nil { // tests ran first in this binary: detach them
			r.p.Close()
			r.p = nil
		}
	}
	cg := cgrouptest.New(b, "podguard-bench-")

	run := func() stormRun {
		var before unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &before)
		cmd := cg.Command(triggerBin, args(b.N)...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("storm: %v %s", err, out)
		}
		wall := time.Since(start)
		var after unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &after)
		ps := cmd.ProcessState
		return stormRun{wall: wall, cpu: ps.UserTime() + ps.SystemTime(), self: cpuTime(after) - cpuTime(before)}
	}

	b.ResetTimer()
	base := run()

	p, err := Load(Options{QueueLen: 1 << 16, ForcePerfBuffer: perfMode})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	unwatched := run() // probes attached, cgroup not watched (host cost)
	if err := p.SetWatched(cg.ID, KindsOf(kind), 0); err != nil {
		b.Fatal(err)
	}
	var got atomic.Uint64
	go func() {
		for ev := range p.Events() {
			if ev.Kind == kind {
				got.Add(1)
			}
		}
	}()
	probed := run()
	deadline := time.Now().Add(10 * time.Second)
	for got.Load() < uint64(b.N) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()

	s, _ := p.Stats()
	ks := s.Of(kind)
	extra := (probed.cpu - base.cpu) + (probed.self - base.self)
	b.ReportMetric(float64(got.Load())/probed.wall.Seconds(), "events/s")
	b.ReportMetric(float64(extra.Nanoseconds())/float64(b.N), "cpu-ns/event")
	b.ReportMetric(ratio(probed.cpu, base.cpu), "workload-cpu-x")
	b.ReportMetric(ratio(probed.wall, base.wall), "wall-x")
	b.ReportMetric(ratio(unwatched.cpu, base.cpu), "unwatched-cpu-x")
	b.ReportMetric(float64(ks.QueueDrops+ks.RingDrops), "dropped")
}

func cpuTime(r unix.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

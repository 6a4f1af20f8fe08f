package test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/test/node"
)

// These benchmarks measure, on a real node, the time from the violating
// syscall (the kernel's timestamp on the event) to the mitigation taking
// effect. Run: go test -run '^$' -bench Latency -benchtime 20x ./test/

func percentiles(b *testing.B, name string, ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	b.ReportMetric(float64(at(0.50).Microseconds()), name+"-p50-µs")
	b.ReportMetric(float64(at(0.99).Microseconds()), name+"-p99-µs")
}

func BenchmarkIsolateLatency(b *testing.B) {
	n, in := guardedNode(b, "", isolateOnShadow("php-lat"))
	p := n.CreatePod(b, sleeper("lat", map[string]string{"app": "php-lat"}))
	var lat []time.Duration
	seen := 0
	for i := 0; i < b.N; i++ {
		p.Exec(b, "app", "cat", "/etc/shadow")
		ev := in.waitEventAfter(b, p, "shadow-file-read", &seen)
		if ev.Mitigation.Result != "applied" || ev.Mitigation.AppliedAt.IsZero() {
			b.Fatalf("mitigation %+v", ev.Mitigation)
		}
		lat = append(lat, ev.Mitigation.AppliedAt.Sub(ev.Time))
		if _, stderr, code := podguard(b, "release", "--config", in.config, p.UID); code != 0 {
			b.Fatalf("release: %s", stderr)
		}
	}
	percentiles(b, "syscall-to-isolated", lat)
}

func BenchmarkTerminateLatency(b *testing.B) {
	n, in := guardedNode(b, "", map[string]string{"t.toml": "name = \"t\"\n[labels]\napp = \"php-tlat\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"terminate\"\n"})
	var sent, dead []time.Duration
	for i := 0; i < b.N; i++ {
		p := n.CreatePod(b, sleeper(fmt.Sprintf("tlat-%d", i), map[string]string{"app": "php-tlat"}))
		pids := []int{p.ContainerPID("app"), p.SandboxPID()}
		p.ExecOutput(b, "app", "cat", "/etc/shadow")
		ev := in.waitEvent(b, p, "shadow-file-read")
		if ev.Mitigation.Result != "applied" {
			b.Fatalf("mitigation %+v", ev.Mitigation)
		}
		sent = append(sent, ev.Mitigation.AppliedAt.Sub(ev.Time))
		for _, pid := range pids {
			for alive(pid) {
				time.Sleep(100 * time.Microsecond)
			}
		}
		dead = append(dead, time.Since(ev.Time))
		p.Delete(b)
	}
	percentiles(b, "syscall-to-sigkill", sent)
	percentiles(b, "syscall-to-tasks-dead", dead)
}

// waitEventAfter waits for the next event of rule in pod beyond the
// *seen already consumed.
func (in *instance) waitEventAfter(tb testing.TB, pod *node.Pod, rule string, seen *int) events.Event {
	tb.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		n := 0
		for _, ev := range in.events(tb) {
			if ev.Pod.UID == pod.UID && ev.Rule.ID == rule && !ev.Folded {
				n++
				if n > *seen {
					*seen = n
					return ev
				}
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no new %s event within %v: %s", rule, eventWait, strings.TrimSpace(summarize(in.events(tb))))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package isolate

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkApply measures how long isolation takes, as p50/p99 over
// repeated apply and release of one pod:
//
//   - drop: from the start of Apply's kernel work (find the veth through the
//     pod's netns, clsact, both filters) until the kernel acknowledged the
//     last filter (netlink is synchronous: the drop is in place then);
//   - apply: the whole Apply call, which adds the state file write (fsync,
//     rename, directory fsync) after the drop is in place.
//
// Release runs outside the timer.
func BenchmarkApply(b *testing.B) {
	n := newTestNet(b)
	a := n.addPod(b, "a")
	gwSrv := listen(b, "", n.gw)
	iso := newIsolator(b, b.TempDir())
	tgt := a.target("bench")

	b.Run("drop", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			veth, err := hostVeth(tgt.NetNSPath)
			if err == nil {
				err = iso.attachVeth(Record{PodUID: tgt.PodUID, HostIfIndex: veth.Attrs().Index, Mode: ModeTC}, 0)
			}
			d = append(d, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := detachTC(veth.Attrs().Index); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		report(b, "drop", d)
	})
	b.Run("apply", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			applied, err := iso.Apply(tgt)
			d = append(d, time.Since(t0))
			if err != nil || !applied {
				b.Fatalf("Apply = %v, %v", applied, err)
			}
			b.StopTimer()
			if err := iso.Release(tgt.PodUID); err != nil {
				b.Fatalf("Release: %v", err)
			}
			b.StartTimer()
		}
		report(b, "apply", d)
	})

	if _, err := iso.Apply(tgt); err != nil {
		b.Fatal(err)
	}
	noReach(b, "a->gw after the benchmark's last Apply", a.nsPath, gwSrv)
}

func report(b *testing.B, name string, d []time.Duration) {
	b.StopTimer()
	slices.Sort(d)
	pct := func(p int) float64 { return float64(d[(len(d)-1)*p/100].Microseconds()) }
	b.ReportMetric(pct(50), name+"-p50-µs")
	b.ReportMetric(pct(99), name+"-p99-µs")
}

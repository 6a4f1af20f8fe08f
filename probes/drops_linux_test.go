//go:build linux && amd64

package probes

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"

	"github.com/podguard/podguard/test/cgrouptest"
)

// TestStormDropsAreCounted: a burst far beyond a one-page ring buffer and
// a one-slot queue loses events, and Stats accounts for every one of them.
func TestStormDropsAreCounted(t *testing.T) {
	stormDrops(t, perfMode)
}

// stormDrops runs the storm with the ring buffer, or with one-page perf
// buffers (one per CPU) when perfBuf.
func stormDrops(t *testing.T, perfBuf bool) {
	needRoot(t)
	// No events_lost record may take the one queue slot, and every drop
	// is a ring drop (the fair share is TestFairShare's).
	p, err := load(Options{RingSize: os.Getpagesize(), QueueLen: 1, ForcePerfBuffer: perfBuf, LossInterval: time.Hour,
		Share: Share{Rate: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	buffers := uint64(1) // the ring, or one perf buffer per CPU
	if perfBuf {
		if p.Transport() != TransportPerfBuffer {
			t.Fatalf("transport %q, want the perf buffer", p.Transport())
		}
		n, err := ebpf.PossibleCPU()
		if err != nil {
			t.Fatal(err)
		}
		buffers = uint64(n)
	}

	cg := &testCgroup{Cgroup: cgrouptest.New(t, "podguard-storm-")}
	if err := p.SetWatched(cg.ID, KindsOf(KindOpen), 0); err != nil {
		t.Fatal(err)
	}

	const n = 5000
	target := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// phase 1: nobody reads the buffer; it fills after a few events
	cg.trigger(t, "", "storm-open", target, strconv.Itoa(n))
	s, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	ring := s.Of(KindOpen).RingDrops
	maxFit := buffers * uint64(os.Getpagesize()) / uint64(unsafe.Offsetof(probeFileEvent{}.Tail))
	if ring < n-maxFit {
		t.Errorf("ring drops = %d, want >= %d (%d opens into %d buffer(s) of %d bytes)", ring, n-maxFit, n, buffers, os.Getpagesize())
	}

	// phase 2: the reader drains into a one-slot queue nobody consumes
	if err := p.startReader(); err != nil {
		t.Fatal(err)
	}
	cg.trigger(t, "", "storm-open", target, strconv.Itoa(n))
	deadline := time.Now().Add(10 * time.Second)
	var o KindStats
	for time.Now().Before(deadline) {
		if s, err = p.Stats(); err != nil {
			t.Fatal(err)
		}
		if o = s.Of(KindOpen); o.Delivered+o.QueueDrops+o.RingDrops >= 2*n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%s: open: delivered %d, queue drops %d, ring drops %d for %d opens",
		p.Transport(), o.Delivered, o.QueueDrops, o.RingDrops, 2*n)
	if total := o.Delivered + o.QueueDrops + o.RingDrops; total < 2*n {
		t.Errorf("accounted %d open events, want >= %d: drops are hidden", total, 2*n)
	}
	if o.Delivered != 1 || o.QueueDrops == 0 {
		t.Errorf("delivered %d queue drops %d, want 1 (queue length) and > 0", o.Delivered, o.QueueDrops)
	}
	if s.DecodeErrors != 0 {
		t.Errorf("decode errors: %d", s.DecodeErrors)
	}
	if !perfBuf {
		return
	}
	// The perf buffers report their losses too, late (a CPU's lost record
	// is written with its next sample that fits): they are some of the
	// kernel-counted drops, never more, so none is of unknown kind.
	var kernel uint64
	for _, k := range s.Kinds {
		kernel += k.RingDrops
	}
	t.Logf("perf buffers reported %d lost of %d kernel-counted drops", p.lostSamples.Load(), kernel)
	if s.LostSamples != 0 {
		t.Errorf("%d lost events of unknown kind: the perf buffers lost more than the kernel counted", s.LostSamples)
	}
}

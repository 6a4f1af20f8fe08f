//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
)

// Events returns the channel decoded events arrive on. It is closed by
// Close. Each *Record is owned by the receiver from then on.
func (p *Probes) Events() <-chan *Record {
	return p.events
}

// read is the one reader goroutine: drain the event buffer (ring or
// perf), decode each record and hand it to Options.Handler or the Events
// channel, never blocking on the channel (a full queue drops and counts).
func (p *Probes) read() {
	defer close(p.done)
	defer close(p.events)
	if p.perf != nil {
		p.readPerf()
		return
	}
	var ev Record // reused for Options.Handler
	deliver := func(raw []byte) { p.deliver(raw, &ev) }
	for !p.stopping.Load() {
		p.pollLosses(time.Now(), p.hand)
		if p.ring.drain(deliver) > 0 {
			continue
		}
		// Nothing committed: sleep until the kernel wakes us. Records
		// written without a wakeup (fork and exit, see emit in
		// bpf/common.h) are picked up by the next wakeup or, with no
		// other event, after straggler.
		err := p.ring.wait(time.Now().Add(straggler))
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !p.stopping.Load() {
			p.log.Warn("ring buffer wait", "err", err)
			time.Sleep(straggler) // do not spin on a persistent error
		}
	}
}

// straggler bounds how long a record written without a wakeup can wait in
// the ring buffer when no other event follows it.
const straggler = 10 * time.Millisecond

// readPerf drains the per-CPU perf buffers. Lost-samples records are
// summed for Stats.LostSamples. Samples may carry up to 7 bytes of
// padding; decode reads only the lengths the kernel announced.
func (p *Probes) readPerf() {
	var rec perf.Record
	var ev Record
	for {
		now := time.Now()
		p.pollLosses(now, p.hand)
		p.perf.SetDeadline(now.Add(p.loss.interval))
		if err := p.perf.ReadInto(&rec); err != nil {
			if errors.Is(err, perf.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			p.log.Warn("perf buffer read", "err", err)
			continue
		}
		if rec.LostSamples > 0 { // see Stats.LostSamples
			p.lostSamples.Add(rec.LostSamples)
			continue
		}
		p.deliver(rec.RawSample, &ev)
	}
}

// deliver decodes one sample and hands it to the Handler (decoded into
// reuse) or queues it (a new Record), or drops and counts it.
func (p *Probes) deliver(raw []byte, reuse *Record) {
	ev := reuse
	if p.handler == nil {
		ev = new(Record)
	}
	if err := decode(raw, ev); err != nil {
		if p.decodeErrors.Add(1) == 1 {
			p.log.Warn("decode event", "err", err)
		}
		return
	}
	p.hand(ev)
}

// hand gives a decoded record to the Handler or queues it, or drops and
// counts it.
func (p *Probes) hand(ev *Record) {
	k := ev.Kind % maxKindSlots
	if p.handler != nil {
		p.handler(ev)
		p.delivered[k].Add(1)
		return
	}
	select {
	case p.events <- ev:
		p.delivered[k].Add(1)
	default:
		p.queueDrops[k].Add(1)
	}
}

// KindStats counts one kind's events since Load.
type KindStats struct {
	Kind       Kind
	Delivered  uint64 // handed to Options.Handler or the Events channel
	QueueDrops uint64 // dropped because the Events channel was full
	RingDrops  uint64 // dropped in the kernel: the ring (or this CPU's perf) buffer was full
	Unreadable uint64 // emitted with FlagUnreadable: an argument the kernel could not read
	ShareDrops uint64 // dropped in the kernel: the container was beyond its fair share (Share)
}

// Stats is a snapshot of the probe counters.
type Stats struct {
	Kinds        []KindStats // one entry per kind, in Kinds() order
	DecodeErrors uint64      // ring buffer records that did not decode
	// Transport is the event buffer in use.
	Transport Transport
	// HookSet is how opens and connects are judged, and HookSetReason
	// why Load chose it.
	HookSet       HookSet
	HookSetReason string
	// LostSamples (perf buffer only) counts events the perf buffers
	// reported lost beyond the kinds' RingDrops: lost events of unknown
	// kind. Every failed bpf_perf_event_output is already in RingDrops
	// (per kind), and the perf buffers report the same losses again,
	// late (a CPU's count arrives with its next sample that fits), so
	// only the excess is counted here. It stays 0 unless the kernel's
	// helper hides failures.
	LostSamples uint64
	// RecursionMisses counts runs of the attached programs the kernel
	// skipped because a BPF program was already running on that CPU
	// (seen on preemptible kernels); each is a lost event of unknown kind.
	// Linux 5.12+; 0 before.
	RecursionMisses uint64
}

// Stats reads the counters: userspace ones and the kernel's per-CPU
// output failures.
func (p *Probes) Stats() (Stats, error) {
	s := Stats{DecodeErrors: p.decodeErrors.Load(), Transport: p.transport, HookSet: p.hookSet, HookSetReason: p.hookSetWhy}
	for _, prog := range []*ebpf.Program{p.objs.SchedExec, p.objs.SchedFork, p.objs.SchedExit, p.objs.SysEnter,
		p.objs.SchedExecTp, p.objs.SchedExitTp, p.objs.SysEnterTp, p.objs.SysExit, p.objs.SysExitTp} {
		if st, err := prog.Stats(); err == nil {
			s.RecursionMisses += st.RecursionMisses
		}
	}
	var percpu []uint64
	var kernelDrops uint64 // all kinds
	for _, k := range Kinds() {
		if err := p.objs.RingDrops.Lookup(uint32(k), &percpu); err != nil {
			return s, fmt.Errorf("read ring_drops[%s]: %w", k, err)
		}
		ring := sum(percpu)
		if err := p.objs.Unreadable.Lookup(uint32(k), &percpu); err != nil {
			return s, fmt.Errorf("read unreadable[%s]: %w", k, err)
		}
		unreadable := sum(percpu)
		if err := p.objs.ShareDrops.Lookup(uint32(k), &percpu); err != nil {
			return s, fmt.Errorf("read share_drops[%s]: %w", k, err)
		}
		share := sum(percpu)
		s.Kinds = append(s.Kinds, KindStats{
			Kind:       k,
			Delivered:  p.delivered[k].Load(),
			QueueDrops: p.queueDrops[k].Load(),
			RingDrops:  ring,
			Unreadable: unreadable,
			ShareDrops: share,
		})
		kernelDrops += ring
	}
	if lost := p.lostSamples.Load(); lost > kernelDrops {
		s.LostSamples = lost - kernelDrops
	}
	return s, nil
}

// Of returns the counters of kind k.
func (s Stats) Of(k Kind) KindStats {
	for _, ks := range s.Kinds {
		if ks.Kind == k {
			return ks
		}
	}
	return KindStats{Kind: k}
}

func sum(percpu []uint64) uint64 {
	var n uint64
	for _, x := range percpu {
		n += x
	}
	return n
}

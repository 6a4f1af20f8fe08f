package probes

import (
	"log/slog"
	"time"
)

// Options configures Load.
type Options struct {
	// HostMonitoring makes tasks outside watched cgroups (the host)
	// produce events too, using the host default (SetHost; AllKinds
	// without kills after Load). Off: only watched cgroups are seen.
	HostMonitoring bool
	// QueueLen bounds the Events channel (default 4096). When it is full
	// the reader drops the event and counts it (Stats.QueueDrops).
	QueueLen int
	// RingSize is the ring buffer size in bytes: a power of two and a
	// multiple of the page size (default 2 MiB). With the perf buffer it
	// is the total over all possible CPUs: each CPU gets RingSize/CPUs
	// rounded down to a power-of-two number of pages, at least one page.
	RingSize int
	// ForcePerfBuffer carries events through a perf event array (per-CPU
	// buffers) even when the kernel has a BPF ring buffer. Without it
	// Load uses the ring buffer when the kernel has one (5.8+) and the
	// perf buffer otherwise. For tests and for kernels whose ring buffer
	// misbehaves.
	ForcePerfBuffer bool
	// Handler, when set, receives every event on the reader goroutine,
	// synchronously, instead of the Events channel (which then stays
	// empty): no hand-off per event. The *Record is reused for the next
	// event once Handler returns (its strings and slices are not); a
	// slow Handler backs up into the kernel buffer, whose overflow the
	// kernel drops and counts (KindStats.RingDrops).
	Handler func(*Record)
	// ForceSyscallTracepoint hooks syscalls with HookTracepoint even
	// where Load would use HookRawTracepoint. For tests.
	ForceSyscallTracepoint bool
	// HookSet, when set, is the hook set Load uses instead of choosing
	// one (HookSetLSM where the kernel lets a BPF-LSM program attach,
	// else HookSetTracepoints). Forcing HookSetLSM on a kernel without
	// BPF-LSM makes Load fail. For tests.
	HookSet HookSet
	// Share is each watched container's fair share of the event buffer
	// (defaults: see Share).
	Share Share
	// LossInterval is how often the reader turns the kernel's
	// per-container loss counters into KindEventsLost records (default
	// 5 s): at most one per container per interval, with the counts since
	// the last one.
	LossInterval time.Duration
	// Logger receives load and reader messages (default slog.Default()).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.QueueLen <= 0 {
		o.QueueLen = 4096
	}
	if o.RingSize <= 0 {
		o.RingSize = 2 << 20
	}
	o.Share = o.Share.withDefaults(o.RingSize)
	if o.LossInterval <= 0 {
		o.LossInterval = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

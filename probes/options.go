package probes

import "log/slog"

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
	// multiple of the page size (default 4 MiB).
	RingSize int
	// Logger receives load and reader messages (default slog.Default()).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.QueueLen <= 0 {
		o.QueueLen = 4096
	}
	if o.RingSize <= 0 {
		o.RingSize = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

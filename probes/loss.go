package probes

import "time"

// LossReason says why the kernel lost an event.
type LossReason uint8

// Loss reasons.
const (
	// LossRingFull: the event buffer had no room.
	LossRingFull LossReason = 1
	// LossRateLimited: the container was beyond its fair share of the
	// event buffer (Share) while the buffer was more than half full.
	LossRateLimited LossReason = 2
)

func (r LossReason) String() string {
	switch r {
	case LossRingFull:
		return "ring_full"
	case LossRateLimited:
		return "rate_limited"
	}
	return "reason(" + itoa(uint64(r)) + ")"
}

// Loss counts one container's events of one kind lost for one reason.
type Loss struct {
	Kind   Kind
	Reason LossReason
	Count  uint64
}

// Share is each watched container's fair share of the event buffer, in
// bytes: a token bucket of Rate bytes per second and Burst bytes. A
// container beyond its share loses events (LossRateLimited) only while
// the ring buffer is more than half full, so the pods under their share
// keep the other half (with the perf buffer, which cannot tell how full
// it is, the share always holds). Events with an in-kernel kill are never
// rate limited.
type Share struct {
	Rate  int // bytes per second (default 1 MiB: 2000 to 7000 events); negative: no limit
	Burst int // bytes (default an eighth of the event buffer)
}

// withDefaults fills in the defaults for an event buffer of bufBytes.
func (s Share) withDefaults(bufBytes int) Share {
	if s.Rate == 0 {
		s.Rate = 1 << 20
	}
	if s.Burst <= 0 {
		s.Burst = bufBytes / 8
	}
	return s
}

// costCap is the kernel's form of s: nanoseconds of credit per byte and
// the credit cap (0, 0 without a limit).
func (s Share) costCap() (cost, cap uint64) {
	if s.Rate < 0 {
		return 0, 0
	}
	cost = max(uint64(time.Second)/uint64(s.Rate), 1)
	return cost, cost * uint64(s.Burst)
}

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

// Share is each watched container's fair share of the event buffer: a
// token bucket of Rate events per second and Burst events. A container
// beyond its share loses events (LossRateLimited) only while the ring
// buffer is more than half full, so the pods under their share keep the
// other half (with the perf buffer, which cannot tell how full it is,
// the share always holds). Events with an in-kernel kill are never rate
// limited.
type Share struct {
	Rate  int // events per second (default 2000); negative: no limit
	Burst int // events (default 5 × Rate)
}

func (s Share) withDefaults() Share {
	if s.Rate == 0 {
		s.Rate = 2000
	}
	if s.Burst <= 0 {
		s.Burst = 5 * s.Rate
	}
	return s
}

// costCap is the kernel's form of s: nanoseconds of credit per event and
// the credit cap (0, 0 without a limit).
func (s Share) costCap() (cost, cap uint64) {
	if s.Rate < 0 {
		return 0, 0
	}
	cost = uint64(time.Second) / uint64(s.Rate)
	return cost, cost * uint64(s.Burst)
}

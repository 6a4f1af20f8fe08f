package events

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config says where events go.
type Config struct {
	File     string // JSON lines file; "" for none
	MaxBytes int64  // rotate the file beyond this size (default 100 MiB)
	Keep     int    // rotated files kept: file.1 … file.Keep (default 3)
	// MaxAge deletes rotated files last written longer ago than this
	// (0: kept until Keep pushes them out).
	MaxAge time.Duration
	Stdout io.Writer // also write JSON lines here; nil for none
	Queue  int       // events waiting for the writer (default 4096)
	Recent int       // events kept in memory for `podguard events` (default 1000)
	// RecentPerPod caps one pod's share of Recent (default Recent/10), so
	// a noisy pod cannot push other pods' events out of memory.
	RecentPerPod int
	Webhook      *Webhook // also post events here; nil for none
}

// Writer sends events to their outputs from one goroutine.
type Writer struct {
	cfg   Config
	log   *slog.Logger
	queue chan Event
	file  *rotatingFile

	mu     sync.Mutex
	recent []Event // oldest first
	perPod map[string]int
	subs   map[chan Event]struct{}

	emitted, queueDrops, fileErrors, written atomic.Uint64
}

// NewWriter opens the outputs. A file that cannot be opened is reported
// and retried at every event; detection goes on meanwhile.
func NewWriter(cfg Config, log *slog.Logger) *Writer {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 100 << 20
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 3
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	if cfg.Recent <= 0 {
		cfg.Recent = 1000
	}
	if cfg.RecentPerPod <= 0 || cfg.RecentPerPod > cfg.Recent {
		cfg.RecentPerPod = max(cfg.Recent/10, 1)
	}
	w := &Writer{cfg: cfg, log: log, queue: make(chan Event, cfg.Queue), subs: map[chan Event]struct{}{}, perPod: map[string]int{}}
	if cfg.File != "" {
		w.file = &rotatingFile{path: cfg.File, max: cfg.MaxBytes, keep: cfg.Keep, maxAge: cfg.MaxAge, log: log}
	}
	return w
}

// Emit queues an event without blocking; a full queue drops it and counts
// the drop.
func (w *Writer) Emit(ev Event) {
	w.emitted.Add(1)
	select {
	case w.queue <- ev:
	default:
		w.queueDrops.Add(1)
	}
}

// Run writes queued events until ctx ends, then drains the queue.
func (w *Writer) Run(ctx context.Context) {
	defer w.file.close()
	for {
		select {
		case ev := <-w.queue:
			w.write(ev)
		case <-ctx.Done():
			for {
				select {
				case ev := <-w.queue:
					w.write(ev)
				default:
					return
				}
			}
		}
	}
}

func (w *Writer) write(ev Event) {
	line, err := json.Marshal(ev)
	if err != nil {
		w.log.Error("encode event", "err", err)
		return
	}
	line = append(line, '\n')
	w.remember(ev)
	if w.file != nil {
		if err := w.file.write(line); err != nil {
			if w.fileErrors.Add(1) == 1 || w.fileErrors.Load()%1000 == 0 {
				w.log.Error("events file: event lost for this output", "file", w.cfg.File, "err", err, "lost_so_far", w.fileErrors.Load())
			}
		}
	}
	if w.cfg.Stdout != nil {
		w.cfg.Stdout.Write(line)
	}
	if w.cfg.Webhook != nil {
		w.cfg.Webhook.Offer(ev)
	}
	w.written.Add(1)
}

// remember keeps ev in memory. A pod at its cap loses its own oldest
// event; when memory is full, the pod with the most events loses its
// oldest. So a flood from one pod ages out only that pod's events.
func (w *Writer) remember(ev Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	pod := ev.Pod.UID
	switch {
	case w.perPod[pod] >= w.cfg.RecentPerPod:
		w.forgetOldest(pod)
	case len(w.recent) >= w.cfg.Recent:
		most := ""
		for p, n := range w.perPod {
			if n > w.perPod[most] || (n == w.perPod[most] && p < most) {
				most = p
			}
		}
		w.forgetOldest(most)
	}
	w.recent = append(w.recent, ev)
	w.perPod[pod]++
	for ch := range w.subs {
		select {
		case ch <- ev:
		default: // a slow follower misses events; it never slows detection
		}
	}
}

// forgetOldest drops pod's oldest event from memory.
func (w *Writer) forgetOldest(pod string) {
	for i, ev := range w.recent {
		if ev.Pod.UID == pod {
			w.recent = append(w.recent[:i], w.recent[i+1:]...)
			if w.perPod[pod]--; w.perPod[pod] == 0 {
				delete(w.perPod, pod)
			}
			return
		}
	}
}

// Recent returns the events kept in memory, oldest first.
func (w *Writer) Recent() []Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Event(nil), w.recent...)
}

// Subscribe returns a channel of new events until cancel is called.
func (w *Writer) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	w.mu.Lock()
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.subs, ch)
		w.mu.Unlock()
	}
}

// Stats counts what a Writer did with the events it was given.
type Stats struct {
	Emitted       uint64 // handed to Emit
	Written       uint64 // taken off the queue and written to the outputs
	QueueDropped  uint64 // dropped: the queue was full
	FileWriteLost uint64 // written to the other outputs, lost for the file
	// Webhook counts the webhook output; nil when there is none.
	Webhook *WebhookStats
}

// Stats counts events: emitted, written, dropped by the queue, lost by the
// file output, and the webhook's own counts.
func (w *Writer) Stats() Stats {
	s := Stats{
		Emitted:       w.emitted.Load(),
		Written:       w.written.Load(),
		QueueDropped:  w.queueDrops.Load(),
		FileWriteLost: w.fileErrors.Load(),
	}
	if w.cfg.Webhook != nil {
		ws := w.cfg.Webhook.Stats()
		s.Webhook = &ws
	}
	return s
}

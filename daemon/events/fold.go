package events

import (
	"sync"
	"time"
)

// Folder folds repeated matches of one rule in one container: the first
// is emitted at once, the repeats within the window become one summary
// event with their count when the window ends. Nothing is dropped.
type Folder struct {
	window time.Duration
	mu     sync.Mutex
	open   map[string]*fold
}

type fold struct {
	first time.Time
	last  Event
	n     int // repeats after the first
}

// NewFolder folds repeats within window.
func NewFolder(window time.Duration) *Folder {
	return &Folder{window: window, open: map[string]*fold{}}
}

// Admit reports whether ev (the Count-1 match of its rule in its
// container) is the first of a window and must be emitted now; if not,
// it is counted into the window's summary.
func (f *Folder) Admit(ev Event, now time.Time) bool {
	key := ev.Container.ID + "\x00" + ev.Rule.ID
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.open[key]; ok && now.Sub(w.first) < f.window {
		w.n++
		w.last = ev
		return false
	}
	f.open[key] = &fold{first: now}
	return true
}

// Expired returns the summaries of windows that ended by now and forgets
// them; windows without repeats end silently.
func (f *Folder) Expired(now time.Time) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	for key, w := range f.open {
		if now.Sub(w.first) < f.window {
			continue
		}
		if w.n > 0 {
			ev := w.last
			ev.Count, ev.Folded = w.n, true
			out = append(out, ev)
		}
		delete(f.open, key)
	}
	return out
}

// Flush returns every pending summary (at shutdown).
func (f *Folder) Flush() []Event {
	return f.Expired(time.Now().Add(f.window * 1000))
}

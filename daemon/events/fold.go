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
	n     int        // repeats after the first
	mit   Mitigation // what was done about the first
}

func key(ev Event) string { return ev.Container.ID + "\x00" + ev.Rule.ID }

// NewFolder folds repeats within window.
func NewFolder(window time.Duration) *Folder {
	return &Folder{window: window, open: map[string]*fold{}}
}

// Admit reports whether ev (the Count-1 match of its rule in its
// container) is the first of a window and must be emitted now; if not,
// it is counted into the window's summary.
func (f *Folder) Admit(ev Event, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.open[key(ev)]; ok && now.Sub(w.first) < f.window {
		w.n++
		w.last = ev
		return false
	}
	f.open[key(ev)] = &fold{first: now, mit: ev.Mitigation}
	return true
}

// Mitigated records what was done about the first event of a window, for
// the summary of its repeats.
func (f *Folder) Mitigated(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.open[key(ev)]; ok {
		w.mit = ev.Mitigation
	}
}

// Unfold takes one repeat back out of its window's count: it turned out
// to start a new incident and is emitted on its own.
func (f *Folder) Unfold(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.open[key(ev)]; ok && w.n > 0 {
		w.n--
	}
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
			ev.Mitigation = w.mit
			ev.Mitigation.Detail = "repeats of an incident: the mitigation was applied once, with its first event"
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

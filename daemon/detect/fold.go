package detect

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/podguard/podguard/daemon/events"
)

// folder folds repeated matches of one rule in one container: the first
// is emitted at once, the repeats within the window become one summary
// event with their count when the window ends. Nothing is dropped.
type folder struct {
	window time.Duration
	mu     sync.Mutex
	open   map[foldKey]*fold
}

type fold struct {
	first time.Time
	last  events.Event
	n     int            // repeats after the first
	mit   events.Outcome // what was done about the first
	// distinct are the details of the repeats that differ from the first
	// event's and from each other (the first maxDistinct of them), and
	// ndistinct how many differed in all: a summary names what the
	// repeats touched, so decoys cannot hide the real target.
	seen      map[string]bool
	distinct  []map[string]any
	ndistinct int
}

// maxDistinct bounds the distinct details a summary lists.
const maxDistinct = 16

// foldKey is what repeats share: the container and the rule.
type foldKey struct{ container, rule string }

func key(ev events.Event) foldKey { return foldKey{ev.Container.ID, ev.Rule.ID} }

// newFolder folds repeats within window.
func newFolder(window time.Duration) *folder {
	return &folder{window: window, open: map[foldKey]*fold{}}
}

// admit reports whether ev (the Count-1 match of its rule in its
// container) is the first of a window and must be emitted now; if not,
// it is counted into the window's summary.
func (f *folder) admit(ev events.Event, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.open[key(ev)]; ok && now.Sub(w.first) < f.window {
		w.n++
		w.last = ev
		if k := detailKey(ev.Details); !w.seen[k] {
			w.seen[k] = true
			w.ndistinct++
			if len(w.distinct) < maxDistinct {
				w.distinct = append(w.distinct, ev.Details)
			}
		}
		return false
	}
	f.open[key(ev)] = &fold{first: now, mit: ev.Mitigation, seen: map[string]bool{detailKey(ev.Details): true}}
	return true
}

// detailKey identifies an event's details (what was touched).
func detailKey(d map[string]any) string {
	b, _ := json.Marshal(d) // map keys are sorted
	return string(b)
}

// mitigated records what was done about the first event of a window, for
// the summary of its repeats.
func (f *folder) mitigated(ev events.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.open[key(ev)]; ok {
		w.mit = ev.Mitigation
	}
}

// unfold takes one repeat back out of its window's count: it turned out
// to start a new incident and is emitted on its own.
func (f *folder) unfold(ev events.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.open[key(ev)]; ok && w.n > 0 {
		w.n--
	}
}

// expired returns the summaries of windows that ended by now and forgets
// them; windows without repeats end silently.
func (f *folder) expired(now time.Time) []events.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []events.Event
	for k, w := range f.open {
		if now.Sub(w.first) < f.window {
			continue
		}
		if w.n > 0 {
			ev := w.last
			ev.Count, ev.Folded = w.n, true
			ev.Mitigation = w.mit
			ev.Mitigation.Detail = "repeats of an incident: the mitigation was applied once, with its first event"
			if w.ndistinct > 0 {
				d := make(map[string]any, len(ev.Details)+2)
				for k, v := range ev.Details {
					d[k] = v
				}
				d["repeats_distinct"] = w.ndistinct // repeats whose details differ
				d["repeats"] = w.distinct           // the first of them
				ev.Details = d
			}
			out = append(out, ev)
		}
		delete(f.open, k)
	}
	return out
}

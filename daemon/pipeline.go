package daemon

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/daemon/mitigate"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// foldWindow is how long repeats of one rule in one container are folded
// into one summary event.
const foldWindow = 10 * time.Second

// pipeline turns kernel events into detection events and mitigations:
// probes → engine → folder → (mitigation worker) → writer. The engine
// runs on the kernel reader's goroutine; it never waits on mitigations
// or outputs.
type pipeline struct {
	d      *Daemon
	eng    *engine.Engine
	fold   *events.Folder
	mit    *mitigate.Mitigator
	out    *events.Writer
	jobs   chan job
	forget chan workload.Identity // containers gone, for handle to forget
	// scratch holds handle's matches, reused (handle runs on one goroutine).
	scratch []engine.Match

	matches, mitigationDrops atomic.Uint64
	monoToWall               time.Duration
	// byRule counts matches by rule and action, byResult mitigations by
	// action and result (keys "a\x00b"), for metrics.
	byRule, byResult sync.Map
}

type countCell struct{ n atomic.Uint64 }

func count(m *sync.Map, a, b string) {
	k := a + "\x00" + b
	c, ok := m.Load(k)
	if !ok {
		c, _ = m.LoadOrStore(k, &countCell{})
	}
	c.(*countCell).n.Add(1)
}

type job struct {
	ev     events.Event
	action catalog.Mitigation
	id     workload.Identity
	repeat bool // folded into an open window: emitted only if it acts anew
}

func newPipeline(d *Daemon, res engine.Resolver, mit *mitigate.Mitigator, out *events.Writer, self engine.Self) *pipeline {
	return &pipeline{d: d, eng: engine.New(res, self), fold: events.NewFolder(foldWindow), mit: mit, out: out,
		jobs: make(chan job, 1024), forget: make(chan workload.Identity, 256), monoToWall: monoOffset()}
}

// monoOffset is wall clock minus CLOCK_MONOTONIC, to date kernel events.
func monoOffset() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(time.Now().UnixNano() - ts.Nano())
}

// handle evaluates one kernel event. It runs on the probes' reader
// goroutine (probes.Options.Handler), so an event costs no hand-off; it
// never blocks: mitigations and outputs are queued.
func (p *pipeline) handle(ev *probes.Event) {
drain:
	for {
		select {
		case id := <-p.forget:
			p.eng.Forget(id)
		default:
			break drain
		}
	}
	p.scratch = p.eng.Handle(ev, p.scratch[:0])
	for i := range p.scratch {
		p.match(&p.scratch[i])
	}
	clear(p.scratch) // keep no event alive until the next match
}

// run emits the summaries of expired fold windows until ctx ends.
func (p *pipeline) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for _, ev := range p.fold.Expired(now) {
				p.out.Emit(ev)
			}
		}
	}
}

func (p *pipeline) match(m *engine.Match) {
	p.matches.Add(1)
	ev := p.toEvent(m)
	action := m.Verdict.Mitigation
	count(&p.byRule, m.Rule.ID, action.String())
	ev.Mitigation = events.Mitigation{Action: action.String(), Result: events.ResultApplied}
	first := p.fold.Admit(ev, time.Now())
	if action == catalog.Log {
		if first {
			p.out.Emit(ev)
		}
		return
	}
	// Repeats still reach the mitigator: it is a no-op while the
	// incident's mitigation is in place, and acts again once it is not
	// (the pod was released, or the first attempt failed).
	select {
	case p.jobs <- job{ev: ev, action: action, id: m.Identity, repeat: !first}:
		if first {
			// The mitigation worker is next on this P: let it run now
			// rather than when the reader next waits (under a storm
			// the reader may not wait for a while).
			runtime.Gosched()
		}
	default:
		p.mitigationDrops.Add(1)
		if first {
			ev.Mitigation = events.Mitigation{Action: action.String(), Result: events.ResultFailed, Error: "mitigation queue full: too many incidents at once"}
			p.out.Emit(ev)
		}
	}
}

// mitigate runs mitigations one at a time, off the event loop.
func (p *pipeline) mitigate(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-p.jobs:
			var acted bool
			j.ev.Mitigation, acted = p.mit.Apply(ctx, j.action, j.id, j.ev.Rule.ID, p.d.config().DryRun)
			if acted || !j.repeat || j.ev.Mitigation.Result == events.ResultFailed {
				count(&p.byResult, j.action.String(), j.ev.Mitigation.Result)
			}
			if j.repeat {
				if !acted {
					continue // counted in its window's summary
				}
				p.fold.Unfold(j.ev) // a new incident: its own event, not a repeat
			}
			p.fold.Mitigated(j.ev)
			p.out.Emit(j.ev)
		}
	}
}

func (p *pipeline) toEvent(m *engine.Match) events.Event {
	cfg := p.d.config()
	e := m.Event
	return events.Event{
		Time:      time.Unix(0, int64(e.KTime)).Add(p.monoToWall).UTC(),
		Node:      cfg.Node,
		Cluster:   cfg.Cluster,
		Rule:      events.Rule{ID: m.Rule.ID, Name: m.Rule.Name, Tactic: m.Rule.Tactic, Technique: m.Rule.Technique},
		Ruleset:   m.Verdict.Ruleset,
		Pod:       events.Pod{Name: m.Identity.Pod.Name, Namespace: m.Identity.Pod.Namespace, UID: m.Identity.Pod.UID, Labels: m.Identity.Pod.Labels},
		Container: events.Container{ID: m.Identity.Container.ID, Name: m.Identity.Container.Name, Image: m.Identity.Container.Image},
		Process: events.Process{PID: e.TGID, PPID: m.Proc.PPID, UID: e.UID, Exe: m.Proc.Exe, Args: m.Proc.Args,
			ParentExe: m.ParentExe, KilledInKernel: e.Killed()},
		Kind:    e.Kind.String(),
		Details: m.Details,
		Count:   1,
	}
}

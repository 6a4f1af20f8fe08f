package detect

import (
	"context"
	"runtime"
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

// mitigationQueue bounds the mitigations waiting for the mitigator.
const mitigationQueue = 1024

// pipeline turns kernel events into detection events and mitigations:
// probes → engine → folder → (mitigation worker) → output. The engine
// runs on the kernel reader's goroutine; it never waits on mitigations
// or outputs.
type pipeline struct {
	eng      *engine.Engine
	fold     *folder
	mit      Mitigator
	out      Output
	settings *atomic.Pointer[Settings]
	jobs     chan job
	forget   chan workload.Identity // containers gone, for handle to forget
	// scratch holds handle's matches, reused (handle runs on one goroutine).
	scratch []engine.Match

	matches, mitigationDrops atomic.Uint64
	byRule                   tally[RuleAction]
	byResult                 tally[ActionResult]
	monoToWall               time.Duration
	now                      func() time.Time // time.Now; a test's clock
}

type job struct {
	ev     events.Event
	action catalog.Mitigation
	id     workload.Identity
	repeat bool // folded into an open window: emitted only if it acts anew
}

func newPipeline(eng *engine.Engine, mit Mitigator, out Output, settings *atomic.Pointer[Settings]) *pipeline {
	return &pipeline{eng: eng, fold: newFolder(foldWindow), mit: mit, out: out, settings: settings,
		jobs: make(chan job, mitigationQueue), forget: make(chan workload.Identity, 256),
		monoToWall: monoOffset(), now: time.Now}
}

// monoOffset is wall clock minus CLOCK_MONOTONIC, to date kernel events.
func monoOffset() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(time.Now().UnixNano() - ts.Nano())
}

// forgetLater has handle forget a container that is gone, on its own
// goroutine (the engine is not safe for concurrent use). If too many are
// waiting, the engine's own bounds forget it eventually.
func (p *pipeline) forgetLater(id workload.Identity) {
	select {
	case p.forget <- id:
	default:
	}
}

// handle evaluates one kernel event. It runs on the probes' reader
// goroutine (probes.Options.Handler), so an event costs no hand-off; it
// never blocks: mitigations and outputs are queued.
func (p *pipeline) handle(ev *probes.Record) {
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

// expire emits the summaries of expired fold windows until ctx ends.
func (p *pipeline) expire(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.emitExpired(p.now())
		}
	}
}

func (p *pipeline) emitExpired(now time.Time) {
	for _, ev := range p.fold.expired(now) {
		p.out.Emit(ev)
	}
}

func (p *pipeline) match(m *engine.Match) {
	p.matches.Add(1)
	ev := p.toEvent(m)
	action := m.Verdict.Mitigation
	p.byRule.add(RuleAction{Rule: m.Rule.ID, Action: action})
	ev.Mitigation = events.Outcome{Action: action.String(), Result: events.ResultApplied}
	first := p.fold.admit(ev, p.now())
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
			ev.Mitigation = events.Outcome{Action: action.String(), Result: events.ResultFailed, Error: "mitigation queue full: too many incidents at once"}
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
			p.apply(ctx, j)
		}
	}
}

func (p *pipeline) apply(ctx context.Context, j job) {
	o := p.mit.Apply(ctx, j.action, j.id, j.ev.Rule.ID, p.settings.Load().DryRun)
	j.ev.Mitigation = mitigation(j.action, o)
	if o.Acted || !j.repeat || o.Result == mitigate.Failed {
		p.byResult.add(ActionResult{Action: j.action, Result: j.ev.Mitigation.Result})
	}
	if j.repeat {
		if !o.Acted {
			return // counted in its window's summary
		}
		p.fold.unfold(j.ev) // a new incident: its own event, not a repeat
	}
	p.fold.mitigated(j.ev)
	p.out.Emit(j.ev)
}

// results are the event schema's names of mitigation results.
var results = map[mitigate.Result]string{
	mitigate.Applied: events.ResultApplied,
	mitigate.Failed:  events.ResultFailed,
	mitigate.DryRun:  events.ResultDryRun,
}

// mitigation writes what the mitigator did into an event's terms.
func mitigation(action catalog.Mitigation, o mitigate.Outcome) events.Outcome {
	m := events.Outcome{Action: action.String(), Result: results[o.Result], Detail: o.Detail, AppliedAt: o.AppliedAt}
	if o.Err != nil {
		m.Error = o.Err.Error()
	}
	return m
}

func (p *pipeline) toEvent(m *engine.Match) events.Event {
	s := p.settings.Load()
	e := m.Event
	return events.Event{
		Time:      time.Unix(0, int64(e.KTime)).Add(p.monoToWall).UTC(),
		Node:      s.Node,
		Cluster:   s.Cluster,
		Rule:      events.Rule{ID: m.Rule.ID, Name: m.Rule.Name, Tactic: m.Rule.Tactic, Technique: m.Rule.Technique},
		Ruleset:   m.Verdict.Ruleset,
		Pod:       events.PodRef{Name: m.Identity.Pod.Name, Namespace: m.Identity.Pod.Namespace, UID: m.Identity.Pod.UID, Labels: m.Identity.Pod.Labels},
		Container: events.ContainerRef{ID: m.Identity.Container.ID, Name: m.Identity.Container.Name, Image: m.Identity.Container.Image},
		Process: events.Process{PID: e.TGID, PPID: m.Proc.PPID, UID: e.UID, Exe: m.Proc.Exe, Args: m.Proc.Args,
			ParentExe: m.ParentExe, KilledInKernel: e.Killed()},
		Kind:    e.Kind.String(),
		Details: truncated(m.Details, e.Flags),
		Count:   1,
	}
}

// truncated marks the details of an event whose strings, path or argv the
// kernel cut short (probes.FlagTruncated), for every kind: what the rule
// judged was not all there was.
func truncated(d engine.Details, f probes.Flags) engine.Details {
	if f&probes.FlagTruncated == 0 {
		return d
	}
	if d == nil {
		d = engine.Details{}
	}
	d["truncated"] = true
	return d
}

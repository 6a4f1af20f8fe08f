package engine

import (
	"maps"
	"sync/atomic"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// Resolver names the container and pod of an event.
type Resolver interface {
	Resolve(cgroupID uint64, pid uint32) workload.Identity
}

// Match is one rule broken by one event.
type Match struct {
	Rule      catalog.Rule
	Verdict   rulesets.Verdict
	Event     *probes.Record
	Identity  workload.Identity
	Proc      Proc
	ParentExe string
	Details   Details
}

// Engine evaluates rules. Handle must be called from one goroutine;
// SetRules may be called from any.
type Engine struct {
	resolver Resolver
	self     Self
	procs    *procTable
	env      *envCache
	rules    atomic.Pointer[rulesets.Snapshot]
	pods     map[string]*podRules // by pod UID
	ctx      Ctx                  // scratch for Handle, reused
	tab      *table               // the rules' definitions
}

// podRules are the rules that apply to one pod, indexed by event kind.
type podRules struct {
	gen    uint64
	labels map[string]string
	byKind [64][]ruleRef
}

type ruleRef struct {
	rule    catalog.Rule
	cond    condition
	verdict rulesets.Verdict
}

// New returns an engine that resolves events through r.
func New(r Resolver, self Self) *Engine {
	return &Engine{resolver: r, self: self, procs: newProcTable(), env: newEnvCache(), pods: map[string]*podRules{}, tab: managed}
}

// SetProcessTable sets how many processes the table holds before it looks
// for gone ones (it holds at most twice as many); call before Handle.
func (e *Engine) SetProcessTable(n int) {
	if n > 0 {
		e.procs.max = n
	}
}

// ProcStats returns the process table's size and how many processes it
// could not remember because it was full of live ones (safe to call from
// any goroutine).
func (e *Engine) ProcStats() (size int, pressure uint64) {
	return int(e.procs.size.Load()), e.procs.pressure.Load()
}

// SetRules swaps in a new rules snapshot.
func (e *Engine) SetRules(s *rulesets.Snapshot) { e.rules.Store(s) }

// Handle evaluates one event and appends its matches to out.
func (e *Engine) Handle(ev *probes.Record, out []Match) []Match {
	id := e.resolver.Resolve(ev.CgroupID, ev.TGID)
	var p *Proc
	switch ev.Kind {
	case probes.KindFork:
		e.procs.fork(ev)
		return out
	case probes.KindExit:
		e.procs.exit(ev)
		return out
	case probes.KindExec:
		p = e.procs.exec(ev, id.Container.InitPID)
	case probes.KindEventsLost: // the container's, no process's
		p = &Proc{CgroupID: ev.CgroupID}
	default:
		p = e.procs.lookup(ev, id.Container.InitPID)
		if p.Runtime {
			return out // the runtime setting the container up
		}
	}
	if id.Kind != workload.KindWorkload {
		return out
	}
	pr := e.podRules(id.Pod)
	refs := pr.byKind[ev.Kind%64]
	if len(refs) == 0 {
		return out
	}
	// One Ctx reused for every event (Handle runs on one goroutine): the
	// conditions are func values, so a local Ctx would escape to the heap.
	c := &e.ctx
	*c = Ctx{Ev: ev, ID: id, Proc: p, procs: e.procs, env: e.env, self: &e.self}
	for _, ref := range refs {
		d, ok := ref.cond(c)
		if !ok {
			continue
		}
		out = append(out, Match{Rule: ref.rule, Verdict: ref.verdict, Event: ev, Identity: id, Proc: *p, ParentExe: c.parentExe(), Details: d})
	}
	return out
}

// podRules returns the rules for a pod, recomputed when the rules or the
// pod's labels change.
func (e *Engine) podRules(pod workload.Pod) *podRules {
	snap := e.rules.Load()
	var gen uint64
	if snap != nil {
		gen = snap.Generation
	}
	if pr, ok := e.pods[pod.UID]; ok && pr.gen == gen && maps.Equal(pr.labels, pod.Labels) {
		return pr
	}
	pr := &podRules{gen: gen, labels: pod.Labels}
	for id, v := range snap.Select(pod.Labels) {
		d := e.tab.defs[id]
		if d == nil {
			continue
		}
		for _, k := range e.tab.kinds[id] {
			pr.byKind[k%64] = append(pr.byKind[k%64], ruleRef{rule: d.Rule, cond: d.cond, verdict: v})
		}
	}
	if len(e.pods) > 4096 {
		clear(e.pods)
	}
	e.pods[pod.UID] = pr
	return pr
}

// Forget drops what the engine keeps about a container that is gone.
func (e *Engine) Forget(id workload.Identity) {
	if id.Container.CgroupID != 0 {
		e.procs.forgetCgroup(id.Container.CgroupID)
	}
	e.env.forget(id.Container.ID)
}

// KernelNeeds returns what the kernel must report for a pod with these labels
// under the snapshot: the event kinds its rules need (plus exec, fork and
// exit, which keep the process table) and, unless dryRun, the in-kernel
// kills of its terminate rules.
func KernelNeeds(snap *rulesets.Snapshot, labels map[string]string, dryRun bool) (probes.KindSet, probes.KillSet) {
	return managed.watch(snap, labels, dryRun)
}

func (t *table) watch(snap *rulesets.Snapshot, labels map[string]string, dryRun bool) (probes.KindSet, probes.KillSet) {
	sel := snap.Select(labels)
	if len(sel) == 0 {
		return 0, 0
	}
	kinds := probes.KindsOf(probes.KindExec, probes.KindFork, probes.KindExit)
	var kill probes.KillSet
	for id, v := range sel {
		d := t.defs[id]
		if d == nil {
			continue
		}
		kinds |= probes.KindsOf(t.kinds[id]...)
		if v.Mitigation == catalog.Terminate && !dryRun {
			kill |= d.kill
		}
	}
	return kinds, kill
}

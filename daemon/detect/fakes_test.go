package detect

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/daemon/mitigate"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// Only the kernel, containerd and the outputs are faked here: events go
// through the real engine and rules.

// fakeKernel stands in for the loaded probes. Its handler is the
// detector's, as the ring-buffer reader would call it.
type fakeKernel struct {
	mu      sync.Mutex
	handler func(*probes.Record)
	watched map[uint64]cgroupFilter
	closed  bool
}

func (k *fakeKernel) load(o probes.Options) (kernel, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.handler, k.watched, k.closed = o.Handler, map[uint64]cgroupFilter{}, false
	return k, nil
}

func (k *fakeKernel) SetWatched(cg uint64, kinds probes.KindSet, kill probes.KillSet) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.watched[cg] = cgroupFilter{kinds, kill}
	return nil
}

func (k *fakeKernel) Unwatch(cg uint64) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.watched, cg)
	return nil
}

func (k *fakeKernel) filter(cg uint64) (cgroupFilter, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, ok := k.watched[cg]
	return f, ok
}

func (k *fakeKernel) SetOpenFilter(*probes.OpenFilter) error { return nil }
func (k *fakeKernel) ClearOpenFilter() error                 { return nil }
func (k *fakeKernel) Attached() []string                     { return []string{"fake"} }
func (k *fakeKernel) Stats() (probes.Stats, error)           { return probes.Stats{}, nil }
func (k *fakeKernel) SyscallHook() probes.SyscallHook        { return probes.HookRawTracepoint }
func (k *fakeKernel) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	return nil
}

// fakeWorkloads places each cgroup in its pod; pods are added by the test.
type fakeWorkloads struct {
	mu   sync.Mutex
	byCg map[uint64]workload.Identity
}

func (w *fakeWorkloads) add(id workload.Identity) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.byCg[id.Container.CgroupID] = id
}

func (w *fakeWorkloads) Resolve(cg uint64, _ uint32) workload.Identity {
	w.mu.Lock()
	defer w.mu.Unlock()
	if id, ok := w.byCg[cg]; ok {
		return id
	}
	return workload.Identity{Kind: workload.KindHost}
}

func (w *fakeWorkloads) Workloads() []workload.Identity {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []workload.Identity
	for _, id := range w.byCg {
		ids = append(ids, id)
	}
	return ids
}

// fakeMitigator keeps a mitigation in place per pod until released, as
// isolation does.
type fakeMitigator struct {
	mu      sync.Mutex
	inPlace map[string]bool // pod uid
	applied []catalog.Mitigation
	calls   atomic.Int32
}

func (m *fakeMitigator) Apply(_ context.Context, action catalog.Mitigation, id workload.Identity, _ string, dryRun bool) mitigate.Outcome {
	defer m.calls.Add(1)
	if dryRun {
		return mitigate.Outcome{Result: mitigate.DryRun, Detail: "dry run"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inPlace[id.Pod.UID] {
		return mitigate.Outcome{Result: mitigate.Applied, Detail: "already in place"}
	}
	m.inPlace[id.Pod.UID] = true
	m.applied = append(m.applied, action)
	return mitigate.Outcome{Result: mitigate.Applied, Detail: "done", Acted: true, AppliedAt: time.Now()}
}

// release lifts a pod's mitigation, as `podguard release` does.
func (m *fakeMitigator) release(uid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inPlace, uid)
}

func (m *fakeMitigator) appliedActions() []catalog.Mitigation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]catalog.Mitigation(nil), m.applied...)
}

// fakeOutput keeps what is emitted.
type fakeOutput struct {
	mu  sync.Mutex
	evs []events.Event
}

func (o *fakeOutput) Emit(ev events.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evs = append(o.evs, ev)
}

func (o *fakeOutput) events() []events.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]events.Event(nil), o.evs...)
}

type staticRules struct{ snap *rulesets.Snapshot }

func (r staticRules) Current() *rulesets.Snapshot { return r.snap }

// clock is a test's time, moved by hand.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func ruleset(name string, labels map[string]string, rules map[string]catalog.Mitigation) *rulesets.Ruleset {
	return &rulesets.Ruleset{Name: name, Labels: labels, Rules: rules}
}

// rig is a Detector with its probes attached to a fakeKernel.
type rig struct {
	tb    testing.TB
	d     *Detector
	k     *fakeKernel
	wl    *fakeWorkloads
	mit   *fakeMitigator
	out   *fakeOutput
	clock *clock
}

// newRig starts a detector on the rulesets; with mitigate false nothing
// takes mitigations off the queue.
func newRig(tb testing.TB, mitigate bool, rs ...*rulesets.Ruleset) *rig {
	tb.Helper()
	r := &rig{tb: tb, k: &fakeKernel{}, wl: &fakeWorkloads{byCg: map[uint64]workload.Identity{}},
		mit: &fakeMitigator{inPlace: map[string]bool{}}, out: &fakeOutput{}, clock: &clock{}}
	r.d = New(Inputs{Rules: staticRules{&rulesets.Snapshot{Generation: 1, Rulesets: rs}}, Workloads: r.wl, Mitigator: r.mit,
		Output: r.out, Self: engine.Self{PID: 1}, Settings: Settings{Node: "node-1"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r.d.probes.load = r.k.load
	r.d.pipe.now = r.clock.now
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	if mitigate {
		go r.d.Run(ctx)
	}
	r.d.RulesChanged()
	if err := r.d.Start(ctx); err != nil {
		tb.Fatalf("start: %v", err)
	}
	tb.Cleanup(r.d.Stop)
	return r
}

// pod adds a running pod with one container whose entrypoint (pid) has
// executed.
func (r *rig) pod(name string, cg uint64, pid uint32, labels map[string]string) workload.Identity {
	r.tb.Helper()
	id := workload.Identity{Kind: workload.KindWorkload,
		Container: workload.Container{ID: name + "-c", Name: "app", CgroupID: cg, InitPID: pid},
		Pod:       workload.Pod{Name: name, Namespace: "default", UID: name + "-uid", Labels: labels}}
	r.wl.add(id)
	r.d.WorkloadsChanged([]workload.Identity{id}, nil)
	r.emit(&probes.Record{Kind: probes.KindExec, PID: pid, TGID: pid, PPID: 1, CgroupID: cg, Exe: "/bin/sh", Filename: "/bin/sh", Args: []string{"sh"}, Comm: "sh"})
	return id
}

// readShadow is the kernel's event for `cat /etc/shadow` by pid.
func (r *rig) readShadow(cg uint64, pid uint32) {
	r.emit(&probes.Record{Kind: probes.KindOpen, PID: pid, TGID: pid, PPID: 1, CgroupID: cg, Comm: "sh", Path: "/etc/shadow", RawPath: "/etc/shadow"})
}

func (r *rig) emit(ev *probes.Record) {
	r.k.mu.Lock()
	h := r.k.handler
	r.k.mu.Unlock()
	h(ev)
}

// waitFor waits for cond, which the detector's goroutines make true.
func (r *rig) waitFor(what string, cond func() bool) {
	r.tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.tb.Fatalf("timed out waiting for %s; events: %+v", what, r.out.events())
		}
	}
}

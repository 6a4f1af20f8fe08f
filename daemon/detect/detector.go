package detect

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/daemon/mitigate"
	"github.com/podguard/podguard/daemon/rulesets"
	"github.com/podguard/podguard/daemon/workload"
)

// Rules holds the rules in force (rulesets.Store).
type Rules interface {
	Current() *rulesets.Snapshot
}

// Workloads names the pod of an event and lists the workload containers
// the node runs (workload.Resolver).
type Workloads interface {
	engine.Resolver
	Workloads() []workload.Identity
}

// Mitigator carries out mitigations (mitigate.Mitigator).
type Mitigator interface {
	Apply(ctx context.Context, action catalog.Mitigation, id workload.Identity, rule string, dryRun bool) mitigate.Outcome
}

// Output takes detection events without blocking (events.Writer).
type Output interface {
	Emit(events.Event)
}

// Settings are the parts of the node's config that detection reads.
type Settings struct {
	Node, Cluster string // written into every event
	// DryRun reports mitigations without applying them, and arms no
	// in-kernel kill.
	DryRun bool
	// RingSize is the kernel event buffer in bytes (0: the probes'
	// default), taken when the probes are attached.
	RingSize int
}

// Inputs are what a Detector works with.
type Inputs struct {
	Rules     Rules
	Workloads Workloads
	Mitigator Mitigator
	Output    Output
	// Self is podguard's own process and files, for the tamper rule.
	Self     engine.Self
	Settings Settings
	Logger   *slog.Logger
	// ProcessTable sizes the engine's process table (0: its default).
	ProcessTable int
}

// Detector evaluates kernel events against the rules in force while its
// probes are attached (Start), and mitigates what matches (Run). Its
// methods are safe for concurrent use.
type Detector struct {
	rules    Rules
	settings *atomic.Pointer[Settings]
	pipe     *pipeline
	probes   *probeSet

	mu         sync.Mutex // serializes Start and Stop
	stopExpiry context.CancelFunc
}

// New makes a detector; nothing is attached until Start.
func New(in Inputs) *Detector {
	if in.Logger == nil {
		in.Logger = slog.Default()
	}
	settings := &atomic.Pointer[Settings]{}
	s := in.Settings
	settings.Store(&s)
	return &Detector{
		rules:    in.Rules,
		settings: settings,
		pipe:     newPipeline(newEngine(in), in.Mitigator, in.Output, settings),
		probes:   newProbeSet(in.Rules, in.Workloads, settings, in.Logger),
	}
}

// Run carries out queued mitigations, one at a time, until ctx ends. It
// runs for the life of the daemon, whether or not the probes are attached.
func (d *Detector) Run(ctx context.Context) { d.pipe.mitigate(ctx) }

// Start loads and attaches the kernel probes and starts evaluating their
// events, until Stop or until ctx ends. Starting an attached detector does
// nothing. An error leaves it detached; Stats reports the error.
func (d *Detector) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	attached, err := d.probes.attach(d.pipe.handle)
	if !attached {
		return err
	}
	ctx, d.stopExpiry = context.WithCancel(ctx)
	go d.pipe.expire(ctx)
	return nil
}

// Stop detaches the probes. Mitigations already applied stay in place.
func (d *Detector) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.probes.detach() {
		d.stopExpiry()
	}
}

// RulesChanged takes the rules now in force into the engine and
// reprograms the kernel for them.
func (d *Detector) RulesChanged() {
	d.pipe.eng.SetRules(d.rules.Current())
	d.probes.reprogram()
}

// SetSettings swaps in new settings: the next events and mitigations use
// them, and the kernel is reprogrammed (dry_run arms or disarms in-kernel
// kills). RingSize takes effect at the next Start.
func (d *Detector) SetSettings(s Settings) {
	d.settings.Store(&s)
	d.probes.reprogram()
}

// Reprogram recomputes what the kernel watches for every workload
// container and the open prefilter, from the rules and settings in force.
func (d *Detector) Reprogram() { d.probes.reprogram() }

// WorkloadsChanged follows the resolver's watched set
// (workload.Resolver.Subscribe): added containers are programmed into the
// kernel, removed ones unwatched and forgotten by the engine.
func (d *Detector) WorkloadsChanged(added, removed []workload.Identity) {
	d.probes.workloadsChanged(added, removed)
	for _, id := range removed {
		d.pipe.forgetLater(id)
	}
}

// Stats reports what the detector counted and the state of its probes.
func (d *Detector) Stats() Stats {
	st := Stats{
		Matches:         d.pipe.matches.Load(),
		MitigationDrops: d.pipe.mitigationDrops.Load(),
		ByRule:          d.pipe.byRule.snapshot(),
		ByResult:        d.pipe.byResult.snapshot(),
		Probes:          d.probes.stats(),
	}
	st.ProcTable, st.ProcPressure = d.pipe.eng.ProcStats()
	return st
}

// newEngine is the rule engine for in.
func newEngine(in Inputs) *engine.Engine {
	e := engine.New(in.Workloads, in.Self)
	e.SetProcessTable(in.ProcessTable)
	return e
}

package detect

import (
	"maps"
	"sync"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// Stats is what a Detector counted since New, and the state of its probes.
type Stats struct {
	Matches         uint64 // rule matches, folded repeats included
	MitigationDrops uint64 // mitigations dropped: the queue was full
	// ByRule counts matches by rule and mitigation action.
	ByRule map[RuleAction]uint64
	// ByResult counts mitigations carried out by action and result;
	// repeats of an incident whose mitigation was in place are not
	// counted.
	ByResult map[ActionResult]uint64
	Probes   ProbeStats
	// ProcTable and ProcPressure: the process table's size, and the
	// processes it could not remember because it was full of live ones.
	ProcTable    int
	ProcPressure uint64
}

// RuleAction names a rule and the mitigation its rulesets chose.
type RuleAction struct {
	Rule   string
	Action catalog.Mitigation
}

// ActionResult names a mitigation and how it went (events.Result*).
type ActionResult struct {
	Action catalog.Mitigation
	Result string
}

// ProbeState says whether the kernel probes are attached.
type ProbeState int

const (
	// Detached: never started, or stopped.
	Detached ProbeState = iota
	// Attached: loaded and attached; detection runs.
	Attached
	// LoadFailed: the last Start could not load or attach them
	// (ProbeStats.Err).
	LoadFailed
)

// ProbeStats describes the kernel probes.
type ProbeStats struct {
	State    ProbeState
	Err      error    // why the last Start failed (LoadFailed)
	Attached []string // programs attached (Attached)
	Watched  int      // container cgroups in the kernel's watched set
	// Kernel are the probes' counters; nil unless Attached and readable.
	Kernel *KernelStats
}

// KernelStats are the kernel probes' counters.
type KernelStats struct {
	Transport   probes.Transport
	SyscallHook probes.SyscallHook
	// HookSet is how opens and connects are judged (BPF-LSM or at
	// syscall exit), HookSetReason why.
	HookSet       probes.HookSet
	HookSetReason string
	// Kinds counts each event kind: delivered, and lost in the kernel
	// buffer or the userspace queue.
	Kinds []probes.KindStats
	// Delivered is the sum of Kinds' Delivered.
	Delivered    uint64
	DecodeErrors uint64 // records that did not decode
	// LostUnattributed counts events lost in the kernel of unknown kind:
	// perf buffer overruns and probe runs the kernel skipped.
	LostUnattributed uint64
}

func kernelStats(s probes.Stats, hook probes.SyscallHook) *KernelStats {
	k := &KernelStats{Transport: s.Transport, SyscallHook: hook, HookSet: s.HookSet, HookSetReason: s.HookSetReason,
		Kinds: s.Kinds, DecodeErrors: s.DecodeErrors,
		LostUnattributed: s.LostSamples + s.RecursionMisses}
	for _, ks := range s.Kinds {
		k.Delivered += ks.Delivered
	}
	return k
}

// tally counts by key, safe for concurrent use.
type tally[K comparable] struct {
	mu sync.Mutex
	n  map[K]uint64
}

func (t *tally[K]) add(k K) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[K]uint64{}
	}
	t.n[k]++
}

func (t *tally[K]) snapshot() map[K]uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.n)
}

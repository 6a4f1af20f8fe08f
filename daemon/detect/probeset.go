package detect

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// kernel is what a probeSet drives: the loaded probes (*probes.Probes),
// or a test's fake.
type kernel interface {
	SetWatched(cgroupID uint64, kinds probes.KindSet, kill probes.KillSet) error
	Unwatch(cgroupID uint64) error
	SetOpenFilter(f *probes.OpenFilter) error
	ClearOpenFilter() error
	Attached() []string
	Stats() (probes.Stats, error)
	SyscallHook() probes.SyscallHook
	Close() error
}

// probeSet is the kernel side of detection: the probes while attached,
// and what is programmed into them (the watched cgroups and the open
// prefilter).
type probeSet struct {
	log       *slog.Logger
	rules     Rules
	workloads interface{ Workloads() []workload.Identity }
	settings  *atomic.Pointer[Settings]
	load      func(probes.Options) (kernel, error) // loadProbes; a test's fake

	mu  sync.Mutex
	k   kernel // nil while detached
	err error  // the last attach's
	// programmed are the cgroups in the kernel's watched map.
	programmed map[uint64]cgroupFilter
	openFilter openFilterState
}

// cgroupFilter is what the kernel reports and kills for one cgroup.
type cgroupFilter struct {
	kinds probes.KindSet
	kill  probes.KillSet
}

func newProbeSet(rules Rules, w Workloads, settings *atomic.Pointer[Settings], log *slog.Logger) *probeSet {
	return &probeSet{log: log, rules: rules, workloads: w, settings: settings, load: loadProbes}
}

// attach loads and attaches the probes, handing their events to handler,
// and programs them. It reports whether it attached them now: false when
// they already were, or with the error that kept them out.
func (s *probeSet) attach(handler func(*probes.Record)) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.k != nil {
		return false, nil
	}
	k, err := s.load(probes.Options{Logger: s.log.With("component", "probes"), Handler: handler,
		RingSize: s.settings.Load().RingSize})
	s.err = err
	if err != nil {
		s.log.Error("kernel probes not attached: no detection until this is fixed", "err", err)
		return false, err
	}
	s.k = k
	s.programmed = map[uint64]cgroupFilter{}
	s.reprogramLocked()
	s.log.Info("kernel probes attached", "programs", len(k.Attached()))
	return true, nil
}

// detach closes the probes and reports whether they were attached.
func (s *probeSet) detach() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.k == nil {
		return false
	}
	if err := s.k.Close(); err != nil {
		s.log.Warn("detach probes", "err", err)
	}
	s.k, s.programmed = nil, nil
	s.log.Info("kernel probes detached")
	return true
}

// reprogram recomputes what the kernel watches for every workload
// container, after a rules or settings change.
func (s *probeSet) reprogram() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reprogramLocked()
}

func (s *probeSet) reprogramLocked() {
	if s.k == nil {
		return
	}
	s.openFilterLocked()
	seen := map[uint64]bool{}
	for _, id := range s.workloads.Workloads() {
		s.watchLocked(id)
		seen[id.Container.CgroupID] = true
	}
	for cg := range s.programmed {
		if !seen[cg] {
			s.unwatchLocked(cg)
		}
	}
}

func (s *probeSet) workloadsChanged(added, removed []workload.Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range removed {
		s.unwatchLocked(id.Container.CgroupID)
	}
	for _, id := range added {
		s.watchLocked(id)
	}
}

func (s *probeSet) watchLocked(id workload.Identity) {
	if s.k == nil || id.Container.CgroupID == 0 {
		return
	}
	kinds, kill := engine.KernelNeeds(s.rules.Current(), id.Pod.Labels, s.settings.Load().DryRun)
	cg := id.Container.CgroupID
	if kinds == 0 {
		s.unwatchLocked(cg)
		return
	}
	f := cgroupFilter{kinds, kill}
	if old, ok := s.programmed[cg]; ok && old == f {
		return
	}
	if err := s.k.SetWatched(cg, kinds, kill); err != nil {
		s.log.Error("watch container", "container", id.Container.ID, "cgroup", cg, "err", err)
		return
	}
	if _, again := s.programmed[cg]; !again {
		s.watchDescendants(id)
	}
	s.programmed[cg] = f
}

// watchDescendants has the kernel watch the child cgroups a container
// already has (made before podguard started); new ones it follows itself.
func (s *probeSet) watchDescendants(id workload.Identity) {
	d, ok := s.k.(interface {
		WatchDescendants(root uint64, cgroupPath string) error
	})
	if !ok || id.Container.CgroupPath == "" {
		return
	}
	if err := d.WatchDescendants(id.Container.CgroupID, id.Container.CgroupPath); err != nil {
		s.log.Warn("watch child cgroups", "container", id.Container.ID, "err", err)
	}
}

func (s *probeSet) unwatchLocked(cg uint64) {
	if _, ok := s.programmed[cg]; !ok || s.k == nil {
		return
	}
	s.k.Unwatch(cg)
	delete(s.programmed, cg)
}

// stats describes the probes.
func (s *probeSet) stats() ProbeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.k != nil:
		st := ProbeStats{State: Attached, Attached: s.k.Attached(), Watched: len(s.programmed)}
		if ks, err := s.k.Stats(); err == nil {
			st.Kernel = kernelStats(ks, s.k.SyscallHook())
		}
		return st
	case s.err != nil:
		return ProbeStats{State: LoadFailed, Err: s.err}
	}
	return ProbeStats{State: Detached}
}

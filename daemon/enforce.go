package daemon

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"github.com/podguard/podguard/daemon/api"
	"github.com/podguard/podguard/daemon/engine"
	"github.com/podguard/podguard/daemon/workload"
	"github.com/podguard/podguard/probes"
)

// enforcer is what enabled = true switches on: the kernel probes feeding
// the pipeline, and the watched set programmed into them.
type enforcer struct {
	d      *Daemon
	mu     sync.Mutex
	probes *probes.Probes
	cancel context.CancelFunc
	err    error
	// programmed are the cgroups in the kernel's watched map.
	programmed map[uint64]watch
	openFilter openFilterState
}

type watch struct {
	kinds probes.KindSet
	kill  probes.KillSet
}

// start loads and attaches the probes and starts evaluating events.
func (e *enforcer) start(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.probes != nil {
		return
	}
	p, err := probes.Load(probes.Options{Logger: e.d.log.With("component", "probes"), Handler: e.d.pipe.handle,
		RingSize: e.d.config().Probes.BufferKiB << 10})
	e.err = err
	if err != nil {
		e.d.log.Error("kernel probes not attached: no detection until this is fixed", "err", err)
		return
	}
	e.probes = p
	e.programmed = map[uint64]watch{}
	ctx, e.cancel = context.WithCancel(ctx)
	go e.d.pipe.run(ctx)
	e.reprogramLocked()
	e.d.log.Info("kernel probes attached", "programs", len(p.Attached()))
}

// stop detaches the probes. Isolation already applied stays in place.
func (e *enforcer) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.probes == nil {
		return
	}
	e.cancel()
	if err := e.probes.Close(); err != nil {
		e.d.log.Warn("detach probes", "err", err)
	}
	e.probes, e.programmed = nil, nil
	e.d.log.Info("kernel probes detached")
}

// reprogram recomputes what the kernel watches for every workload
// container, after a rules or config change.
func (e *enforcer) reprogram() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reprogramLocked()
}

func (e *enforcer) reprogramLocked() {
	if e.probes == nil {
		return
	}
	e.openFilterLocked()
	seen := map[uint64]bool{}
	for _, id := range e.d.resolver.Workloads() {
		e.watchLocked(id)
		seen[id.Container.CgroupID] = true
	}
	for cg := range e.programmed {
		if !seen[cg] {
			e.unwatchLocked(cg)
		}
	}
}

// workloadsChanged follows the resolver's watched set.
func (e *enforcer) workloadsChanged(added, removed []workload.Identity) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range removed {
		e.unwatchLocked(id.Container.CgroupID)
		select {
		case e.d.pipe.forget <- id:
		default:
		}
	}
	for _, id := range added {
		e.watchLocked(id)
	}
}

func (e *enforcer) watchLocked(id workload.Identity) {
	if e.probes == nil || id.Container.CgroupID == 0 {
		return
	}
	kinds, kill := engine.Watch(e.d.store.Current(), id.Pod.Labels, e.d.config().DryRun)
	cg := id.Container.CgroupID
	if kinds == 0 {
		e.unwatchLocked(cg)
		return
	}
	w := watch{kinds, kill}
	if old, ok := e.programmed[cg]; ok && old == w {
		return
	}
	if err := e.probes.SetWatched(cg, kinds, kill); err != nil {
		e.d.log.Error("watch container", "container", id.Container.ID, "cgroup", cg, "err", err)
		return
	}
	e.programmed[cg] = w
}

func (e *enforcer) unwatchLocked(cg uint64) {
	if _, ok := e.programmed[cg]; !ok || e.probes == nil {
		return
	}
	e.probes.Unwatch(cg)
	delete(e.programmed, cg)
}

// status describes the probes for `podguard status`.
func (e *enforcer) status() (api.ProbesStatus, map[string]uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := api.ProbesStatus{Attached: []string{}, Drops: map[string]api.KindDrops{}, Events: map[string]uint64{}}
	counters := map[string]uint64{}
	switch {
	case e.probes != nil:
		st.Attached = e.probes.Attached()
		st.Watched = len(e.programmed)
		if s, err := e.probes.Stats(); err == nil {
			for _, k := range s.Kinds {
				counters["kernel_events"] += k.Delivered
				if k.Delivered > 0 {
					st.Events[k.Kind.String()] = k.Delivered
				}
				if k.QueueDrops+k.RingDrops > 0 {
					st.Drops[k.Kind.String()] = api.KindDrops{Ring: k.RingDrops, Queue: k.QueueDrops}
				}
			}
			counters["kernel_decode_errors"] = s.DecodeErrors
			counters["kernel_lost_unattributed"] = s.LostSamples + s.RecursionMisses
			st.Transport = string(s.Transport)
			st.SyscallHook = string(e.probes.SyscallHook())
		}
	case e.err != nil:
		st.Error = e.err.Error()
	default:
		st.Note = "detached: enabled = false"
	}
	return st, counters
}

// selfPaths are podguard's own files, for the tamper rule.
func selfPaths(d *Daemon) engine.Self {
	cfg := d.config()
	s := engine.Self{PID: uint32(os.Getpid()), Paths: []string{cfg.RulesDir, cfg.StateDir, filepath.Dir(cfg.API.Socket),
		// where packages and images put podguard, whatever this node's config says
		"/etc/podguard", "/var/lib/podguard", "/run/podguard", "/usr/bin/podguard", "/usr/local/bin/podguard",
		"/lib/systemd/system/podguard.service", "/etc/systemd/system/podguard.service"}}
	if exe, err := os.Executable(); err == nil {
		s.Paths = append(s.Paths, exe)
	}
	if cfg.Path != "" {
		s.Paths = append(s.Paths, filepath.Dir(cfg.Path))
	}
	return s
}

//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/perf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Probes is a loaded and attached set of podguard programs with its event
// buffer reader. Methods are safe for concurrent use.
type Probes struct {
	objs      probeObjects
	links     []link.Link
	attached  []string
	transport Transport
	hook      SyscallHook
	ring      *ring         // TransportRingBuffer
	perf      *perf.Reader  // TransportPerfBuffer
	reading   bool          // the read goroutine was started
	stopping  atomic.Bool   // Close was called: the reader ends
	handler   func(*Record) // Options.Handler, or nil for the Events channel
	events    chan *Record
	done      chan struct{}
	log       *slog.Logger
	close     sync.Once

	hookSet    HookSet // how opens and connects are judged
	hookSetWhy string  // why Load chose hookSet

	delivered    [maxKindSlots]atomic.Uint64
	queueDrops   [maxKindSlots]atomic.Uint64
	decodeErrors atomic.Uint64
	lostSamples  atomic.Uint64
	loss         lossState // the reader's
}

// Load loads the embedded BPF objects for the chosen Transport (the ring
// buffer when the kernel has one, else the perf buffer), fills the syscall
// dispatch table, attaches every program and starts the reader.
func Load(opts Options) (*Probes, error) {
	p, err := load(opts)
	if err != nil {
		return nil, err
	}
	if err := p.startReader(); err != nil {
		p.shutdown()
		return nil, err
	}
	return p, nil
}

// load loads, attaches and opens the event buffer reader, but does not
// start reading yet (startReader): events queue up in the kernel buffer.
func load(opts Options) (*Probes, error) {
	opts = opts.withDefaults()
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock rlimit: %w", err)
	}
	transport, why := chooseTransport(opts.ForcePerfBuffer)
	opts.Logger.Info("event transport", "transport", transport, "reason", why)
	spec, err := probeSpec(transport, opts.RingSize)
	if err != nil {
		return nil, err
	}
	hook, hookWhy := chooseSyscallHook(opts.ForceSyscallTracepoint)
	opts.Logger.Info("syscall hook", "hook", hook, "reason", hookWhy)
	if hook == HookTracepoint {
		// The handlers are tail-called, so they must have the
		// dispatcher's program type; their code does not depend on it.
		for name, ps := range spec.Programs {
			if ps.SectionName == "raw_tracepoint/sys_enter" && name != probeProgSysEnter ||
				ps.SectionName == "raw_tracepoint/sys_exit" && name != probeProgSysExit {
				ps.Type = ebpf.TracePoint
				ps.AttachType = ebpf.AttachNone
			}
		}
	}
	hookSet, hookSetWhy := chooseHookSet(opts.HookSet)
	opts.Logger.Info("hook set", "hook_set", hookSet, "reason", hookSetWhy)
	prepareHookSet(spec, hookSet)
	if err := spec.Variables[probeVarHostMonitoring].Set(opts.HostMonitoring); err != nil {
		return nil, fmt.Errorf("set host_monitoring: %w", err)
	}
	if err := spec.Variables[probeVarHandledNrs].Set(handledNrs()); err != nil {
		return nil, fmt.Errorf("set handled_nrs: %w", err)
	}
	uring := findURingHook()

	p := &Probes{
		transport: transport,
		hook:      hook,
		events:    make(chan *Record, queueLen(opts)),
		done:      make(chan struct{}),
		log:       opts.Logger,
		handler:   opts.Handler,
		loss: lossState{interval: opts.LossInterval, share: opts.Share, seen: map[uint64]*probeBudget{},
			next: time.Now().Add(opts.LossInterval)},
	}
	p.hookSet, p.hookSetWhy = hookSet, hookSetWhy
	// Both objects have the same programs, maps and variables (only the
	// type of "events" differs), so either loads into probeObjects.
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		return nil, fmt.Errorf("load probes (%s): %w", transport, verifierTail(err))
	}
	bufBytes, err := p.openReader(opts.RingSize)
	if err != nil {
		p.shutdown()
		return nil, err
	}
	if err := p.attach(); err != nil {
		p.shutdown()
		return nil, err
	}
	if err := p.attachLSM(); err != nil {
		p.shutdown()
		return nil, err
	}
	if err := p.attachURing(uring); err != nil {
		p.shutdown()
		return nil, err
	}
	if opts.HostMonitoring {
		if err := p.SetHost(AllKinds, 0); err != nil {
			p.shutdown()
			return nil, err
		}
	}
	bufKey := "ring_bytes"
	if transport == TransportPerfBuffer {
		bufKey = "perf_bytes_per_cpu"
	}
	p.log.Info("probes attached", "programs", len(p.attached), "host_monitoring", opts.HostMonitoring,
		"transport", transport, "syscall_hook", hook, "hook_set", hookSet, bufKey, bufBytes, "queue", queueLen(opts))
	return p, nil
}

// queueLen is the Events channel's capacity: none with a Handler, which
// receives every event instead.
func queueLen(opts Options) int {
	if opts.Handler != nil {
		return 0
	}
	return opts.QueueLen
}

// chooseTransport picks the ring buffer when the kernel has one. Only
// nil and ErrNotSupported from the probe are conclusive; an inconclusive
// probe picks the perf buffer, which every supported kernel has.
func chooseTransport(forcePerf bool) (Transport, string) {
	if forcePerf {
		return TransportPerfBuffer, "forced (Options.ForcePerfBuffer)"
	}
	err := probeRingBuffer()
	switch {
	case err == nil:
		return TransportRingBuffer, "kernel has BPF_MAP_TYPE_RINGBUF"
	case errors.Is(err, ebpf.ErrNotSupported):
		return TransportPerfBuffer, "kernel has no BPF_MAP_TYPE_RINGBUF (before Linux 5.8)"
	default:
		return TransportPerfBuffer, fmt.Sprintf("ring buffer probe inconclusive: %v", err)
	}
}

// chooseSyscallHook picks HookTracepoint where raw tracepoint programs on
// sys_enter run preemptibly (see syscallTracepointsFaultable), else
// HookRawTracepoint.
// The tracepoint hook needs tracefs (the tracepoint's id); without it
// Load mounts tracefs on /sys/kernel/tracing, or, when that fails too,
// keeps the raw tracepoint and says so.
func chooseSyscallHook(forceTracepoint bool) (SyscallHook, string) {
	why := "forced (Options.ForceSyscallTracepoint)"
	if !forceTracepoint {
		faultable, err := syscallTracepointsFaultable()
		switch {
		case err != nil:
			return HookRawTracepoint, fmt.Sprintf("kernel BTF unreadable (%v): assuming non-preemptible syscall tracepoints", err)
		case !faultable:
			return HookRawTracepoint, "syscall tracepoints run programs with preemption disabled"
		}
		why = "syscall tracepoints are faultable (kernel has trace_call_bpf_faultable): " +
			"raw tracepoint programs on sys_enter run preemptibly and the kernel skips runs while one is preempted"
	}
	if err := ensureTracefs(); err != nil {
		if forceTracepoint {
			return HookTracepoint, why + "; " + err.Error()
		}
		return HookRawTracepoint, why + ", but " + err.Error() +
			": keeping raw_tracepoint/sys_enter, events will be lost (Stats.RecursionMisses)"
	}
	return HookTracepoint, why
}

// ensureTracefs mounts tracefs on /sys/kernel/tracing unless tracefs (or
// debugfs with tracing/) is already at one of the canonical paths, where
// cilium/ebpf looks for tracepoint ids.
func ensureTracefs() error {
	for _, c := range []struct {
		path  string
		magic int64
	}{
		{"/sys/kernel/tracing", unix.TRACEFS_MAGIC},
		{"/sys/kernel/debug/tracing", unix.TRACEFS_MAGIC},
		{"/sys/kernel/debug/tracing", unix.DEBUGFS_MAGIC},
	} {
		var st unix.Statfs_t
		if unix.Statfs(c.path, &st) == nil && int64(st.Type) == c.magic {
			return nil
		}
	}
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		return fmt.Errorf("tracefs is not mounted and mounting it on /sys/kernel/tracing failed: %w", err)
	}
	return nil
}

// probeSpec returns the object built for transport: the ring buffer one
// sized ringSize, or the one built with -DPG_PERFBUF.
func probeSpec(transport Transport, ringSize int) (*ebpf.CollectionSpec, error) {
	if transport == TransportPerfBuffer {
		spec, err := loadProbePerf()
		if err != nil {
			return nil, fmt.Errorf("load perf buffer probe spec: %w", err)
		}
		return spec, nil
	}
	spec, err := loadProbe()
	if err != nil {
		return nil, fmt.Errorf("load probe spec: %w", err)
	}
	spec.Maps[probeMapEvents].MaxEntries = uint32(ringSize)
	return spec, nil
}

// openReader opens the reader of the events map and returns its buffer
// size: the ring's, or each CPU's perf buffer (ringSize split over the
// possible CPUs).
func (p *Probes) openReader(ringSize int) (int, error) {
	if p.transport == TransportPerfBuffer {
		// Default options: the kernel wakes the reader on every sample.
		// A watermark (wakeups per ~64 samples) cut the CPU per event of
		// an open storm on 6.18 from ~20 µs to ~3 µs, but the CPUs then
		// flush at different times and events reorder by up to the
		// flush interval, which the tests' exec→exit sequences (and any
		// consumer tracking processes) do not survive. Order wins here.
		rd, err := perf.NewReader(p.objs.Events, perfBufferBytes(ringSize))
		if err != nil {
			return 0, fmt.Errorf("open perf buffer reader: %w", err)
		}
		p.perf = rd
		return rd.BufferSize(), nil
	}
	rd, err := openRing(p.objs.Events.FD(), int(p.objs.Events.MaxEntries()))
	if err != nil {
		return 0, fmt.Errorf("open ring buffer reader: %w", err)
	}
	p.ring = rd
	return rd.size(), nil
}

// perfBufferBytes splits total over the possible CPUs: a power-of-two
// number of pages per CPU, at least one.
func perfBufferBytes(total int) int {
	page := os.Getpagesize()
	cpus, err := ebpf.PossibleCPU()
	if err != nil || cpus < 1 {
		cpus = 1
	}
	pages := 1
	for pages*2*page*cpus <= total {
		pages *= 2
	}
	return pages * page
}

func (p *Probes) startReader() error {
	if p.ring == nil && p.perf == nil {
		return errors.New("start reader: no event buffer reader")
	}
	p.reading = true
	go p.read()
	return nil
}

// Transport reports how events reach userspace: TransportRingBuffer or
// TransportPerfBuffer (chosen by Load, logged with the reason).
func (p *Probes) Transport() Transport {
	return p.transport
}

// verifierTail keeps a verifier error short: the program and the last
// lines of the verifier log, which say why it was rejected.
func verifierTail(err error) error {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || len(ve.Log) == 0 {
		return err
	}
	lines := ve.Log
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return fmt.Errorf("%w\nverifier log tail:\n%s", err, strings.Join(lines, "\n"))
}

func (p *Probes) attach() error {
	progs, exitProgs := p.objs.SyscallProgs, p.objs.ExitProgs
	if p.hook == HookTracepoint {
		progs, exitProgs = p.objs.SyscallProgsTp, p.objs.ExitProgsTp
	}
	for _, sc := range exitTable(&p.objs) {
		if err := exitProgs.Put(sc.nr, sc.prog); err != nil {
			return fmt.Errorf("add %s (%d) to syscall exit dispatch: %w", sc.name, sc.nr, err)
		}
	}
	for _, sc := range syscallTable(&p.objs) {
		if err := progs.Put(sc.nr, sc.prog); err != nil {
			return fmt.Errorf("add %s (%d) to syscall dispatch: %w", sc.name, sc.nr, err)
		}
		for _, n32 := range sc.ia32 {
			if err := p.objs.Ia32Nr.Put(n32, sc.nr); err != nil {
				return fmt.Errorf("map ia32 syscall %d to %s: %w", n32, sc.name, err)
			}
		}
		p.attached = append(p.attached, fmt.Sprintf("syscall %s(%d)", sc.name, sc.nr))
	}
	type hook struct {
		group, name string // group "": a raw tracepoint
		prog        *ebpf.Program
	}
	hooks := []hook{
		{"", "sched_process_exec", p.objs.SchedExec},
		{"", "sched_process_fork", p.objs.SchedFork},
		{"", "sched_process_exit", p.objs.SchedExit},
		{"", "sys_enter", p.objs.SysEnter},
		{"", "sys_exit", p.objs.SysExit},
	}

	if p.hook == HookTracepoint {
		// fork stays a raw tracepoint: its record lacks the child's
		// tgid, which tells a new process from a new thread.
		hooks = []hook{
			{"sched", "sched_process_exec", p.objs.SchedExecTp},
			{"", "sched_process_fork", p.objs.SchedFork},
			{"sched", "sched_process_exit", p.objs.SchedExitTp},
			{"raw_syscalls", "sys_enter", p.objs.SysEnterTp},
			{"raw_syscalls", "sys_exit", p.objs.SysExitTp},
		}
	}
	// child cgroups of watched ones (cgroups.h): raw tracepoints with
	// either syscall hook
	hooks = append(hooks, hook{"", "cgroup_mkdir", p.objs.CgroupMkdir}, hook{"", "cgroup_rmdir", p.objs.CgroupRmdir})
	for _, h := range hooks {
		if h.group == "" {
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.name, Program: h.prog})
			if err != nil {
				return fmt.Errorf("attach raw tracepoint %s: %w", h.name, err)
			}
			p.links = append(p.links, l)
			p.attached = append(p.attached, "raw_tracepoint/"+h.name)
			continue
		}
		l, err := link.Tracepoint(h.group, h.name, h.prog, nil)
		if err != nil {
			return fmt.Errorf("attach tracepoint %s/%s: %w", h.group, h.name, err)
		}
		p.links = append(p.links, l)
		p.attached = append(p.attached, "tracepoint/"+h.group+"/"+h.name)
	}
	return nil
}

// SyscallHook reports how syscalls are hooked (chosen by Load, logged
// with the reason).
func (p *Probes) SyscallHook() SyscallHook {
	return p.hook
}

// Attached lists the hooks in use: raw tracepoints, the sys_enter hook
// (SyscallHook) and the syscalls dispatched from it.
func (p *Probes) Attached() []string {
	return append([]string(nil), p.attached...)
}

// Close detaches everything, stops the reader and closes Events.
func (p *Probes) Close() error {
	p.shutdown()
	return nil
}

func (p *Probes) shutdown() {
	p.close.Do(func() {
		for i := len(p.links) - 1; i >= 0; i-- {
			p.links[i].Close()
		}
		p.stopping.Store(true)
		if p.ring != nil {
			p.ring.stop()
		}
		if p.perf != nil {
			p.perf.Close()
		}
		if p.reading {
			<-p.done
		} else {
			close(p.events)
		}
		if p.ring != nil {
			p.ring.close() // unmaps: the reader is gone
		}
		p.objs.Close()
	})
}

// SetWatched makes the kernel emit the kinds in kinds for tasks in the
// cgroup v2 cgroup with id cgroupID, and kill tasks there on the
// conditions in kill. It replaces any earlier setting for that cgroup.
//
// Child cgroups created below cgroupID from then on are watched alike and
// their events carry cgroupID (see bpf/cgroups.h); cgroupID gets a fair
// share of the event buffer (Options.Share) and its own loss counters
// (KindEventsLost records).
func (p *Probes) SetWatched(cgroupID uint64, kinds KindSet, kill KillSet) error {
	root := cgroupID // the host entry (0) has root 0: no child tracking, no share
	if err := p.objs.Watched.Put(cgroupID, probeWatch{Kinds: uint64(kinds), Kill: uint64(kill), Root: root}); err != nil {
		return fmt.Errorf("watch cgroup %d: %w", cgroupID, err)
	}
	if cgroupID != hostKey {
		if err := p.addBudget(cgroupID); err != nil {
			return err
		}
	}
	return nil
}

// Unwatch stops all events and kills for cgroupID. Unwatching a cgroup
// that is not watched is not an error.
func (p *Probes) Unwatch(cgroupID uint64) error {
	err := p.objs.Watched.Delete(cgroupID)
	if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("unwatch cgroup %d: %w", cgroupID, err)
	}
	if cgroupID == hostKey {
		return nil
	}
	return p.forgetRoot(cgroupID)
}

// SetHost sets the default for tasks in cgroups that are not watched.
// It only has an effect when loaded with Options.HostMonitoring; kinds
// and kill both zero turn host events off again.
func (p *Probes) SetHost(kinds KindSet, kill KillSet) error {
	if kinds == 0 && kill == 0 {
		return p.Unwatch(hostKey)
	}
	return p.SetWatched(hostKey, kinds, kill)
}

const hostKey = 0

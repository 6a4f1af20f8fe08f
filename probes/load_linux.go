//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// Probes is a loaded and attached set of podguard programs with its ring
// buffer reader. Methods are safe for concurrent use.
type Probes struct {
	objs     probeObjects
	links    []link.Link
	attached []string
	rd       *ringbuf.Reader
	events   chan *Event
	done     chan struct{}
	log      *slog.Logger
	close    sync.Once

	delivered    [maxKindSlots]atomic.Uint64
	queueDrops   [maxKindSlots]atomic.Uint64
	decodeErrors atomic.Uint64
}

// Load loads the embedded BPF objects, fills the syscall dispatch table,
// attaches every program and starts the ring buffer reader.
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

// load loads and attaches without reading the ring buffer yet.
func load(opts Options) (*Probes, error) {
	opts = opts.withDefaults()
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock rlimit: %w", err)
	}
	spec, err := loadProbe()
	if err != nil {
		return nil, fmt.Errorf("load probe spec: %w", err)
	}
	if err := spec.Variables[probeVarHostMonitoring].Set(opts.HostMonitoring); err != nil {
		return nil, fmt.Errorf("set host_monitoring: %w", err)
	}
	spec.Maps[probeMapEvents].MaxEntries = uint32(opts.RingSize)

	p := &Probes{
		events: make(chan *Event, opts.QueueLen),
		done:   make(chan struct{}),
		log:    opts.Logger,
	}
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		return nil, fmt.Errorf("load probes: %w", verifierTail(err))
	}
	if err := p.attach(); err != nil {
		p.shutdown()
		return nil, err
	}
	if opts.HostMonitoring {
		if err := p.SetHost(AllKinds, 0); err != nil {
			p.shutdown()
			return nil, err
		}
	}
	p.log.Info("probes attached", "programs", len(p.attached), "host_monitoring", opts.HostMonitoring,
		"ring_bytes", opts.RingSize, "queue", opts.QueueLen)
	return p, nil
}

func (p *Probes) startReader() error {
	rd, err := ringbuf.NewReader(p.objs.Events)
	if err != nil {
		return fmt.Errorf("open ring buffer reader: %w", err)
	}
	p.rd = rd
	go p.read()
	return nil
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
	for _, sc := range syscallTable(&p.objs) {
		if err := p.objs.SyscallProgs.Put(sc.nr, sc.prog); err != nil {
			return fmt.Errorf("add %s (%d) to syscall dispatch: %w", sc.name, sc.nr, err)
		}
		for _, n32 := range sc.ia32 {
			if err := p.objs.Ia32Nr.Put(n32, sc.nr); err != nil {
				return fmt.Errorf("map ia32 syscall %d to %s: %w", n32, sc.name, err)
			}
		}
		p.attached = append(p.attached, fmt.Sprintf("syscall %s(%d)", sc.name, sc.nr))
	}
	for _, rt := range []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_exec", p.objs.SchedExec},
		{"sched_process_fork", p.objs.SchedFork},
		{"sched_process_exit", p.objs.SchedExit},
		{"sys_enter", p.objs.SysEnter},
	} {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: rt.name, Program: rt.prog})
		if err != nil {
			return fmt.Errorf("attach raw tracepoint %s: %w", rt.name, err)
		}
		p.links = append(p.links, l)
		p.attached = append(p.attached, "raw_tracepoint/"+rt.name)
	}
	return nil
}

// Attached lists the hooks in use: raw tracepoints and the syscalls
// dispatched from raw_tracepoint/sys_enter.
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
		if p.rd != nil {
			p.rd.Close()
			<-p.done
		} else {
			close(p.events)
		}
		p.objs.Close()
	})
}

// SetWatched makes the kernel emit the kinds in kinds for tasks in the
// cgroup v2 cgroup with id cgroupID, and kill tasks there on the
// conditions in kill. It replaces any earlier setting for that cgroup.
func (p *Probes) SetWatched(cgroupID uint64, kinds KindSet, kill KillSet) error {
	if err := p.objs.Watched.Put(cgroupID, probeWatch{Kinds: uint64(kinds), Kill: uint64(kill)}); err != nil {
		return fmt.Errorf("watch cgroup %d: %w", cgroupID, err)
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
	return nil
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

package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podguard/podguard/probes"
)

// maxProcs bounds the process table; beyond it the oldest entries of
// exited-but-unreported processes are the first to go.
const maxProcs = 1 << 16

// Proc is what the engine knows of one process (thread group).
type Proc struct {
	TGID, PPID uint32
	CgroupID   uint64
	Exe        string
	Args       []string
	Comm       string
	UID        uint32
	// Origin, CopiedUp, ExeDev and ExeIno identify the executable as the
	// kernel loaded it (see probes.Origin): what ran, whatever its name.
	Origin   probes.Origin
	CopiedUp bool
	ExeDev   uint32
	ExeIno   uint64
	// ArgsTruncated: Args is cut short (argv beyond what the kernel copies).
	ArgsTruncated bool
	TTY           bool
	// ExecIn is true for processes that entered the container through an
	// exec from outside (kubectl exec), and their descendants.
	ExecIn bool
	// Entrypoint is true for the container's init process.
	Entrypoint bool
	// Launched is true for a program the container runtime executed
	// itself (the entrypoint's first program), not one a process of the
	// container executed (a later exec by the entrypoint).
	Launched bool
	// Runtime is true for a process that has not executed anything since
	// it entered the container: the runtime's init.
	Runtime bool
	// nsPID is the process's pid in its own pid namespace (what it passes
	// to kill, ptrace or /proc paths), read lazily; 0 until known.
	nsPID uint32
}

// NSPID returns the process's pid as seen in its pid namespace, from
// /proc/<pid>/status (NSpid, innermost). It is read once per process.
func (p *Proc) NSPID() uint32 {
	if p.nsPID != 0 {
		return p.nsPID
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(p.TGID)) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "NSpid:" {
			v, _ := strconv.ParseUint(f[len(f)-1], 10, 32)
			p.nsPID = uint32(v)
		}
	}
	return p.nsPID
}

// FromImage reports whether the executable came with the image, as far
// as is known (OriginUnknown counts): for detection. Exemptions need
// the image for certain (see Proc.runs).
func (p *Proc) FromImage() bool { return !p.Origin.Drift() }

type procTable struct {
	procs   map[uint32]*Proc
	started uint64 // podguard's start, in clock ticks since boot
}

func newProcTable() *procTable {
	return &procTable{procs: map[uint32]*Proc{}, started: selfStartTicks()}
}

func (t *procTable) get(tgid uint32) *Proc { return t.procs[tgid] }

func (t *procTable) put(p *Proc) {
	if len(t.procs) >= maxProcs {
		t.evict()
	}
	t.procs[p.TGID] = p
}

// evict drops entries whose process is gone (a lost exit event).
func (t *procTable) evict() {
	for tgid := range t.procs {
		if _, err := os.Stat("/proc/" + strconv.Itoa(int(tgid))); err != nil {
			delete(t.procs, tgid)
		}
	}
	if len(t.procs) >= maxProcs { // still full: forget a quarter at random
		n := 0
		for tgid := range t.procs {
			delete(t.procs, tgid)
			if n++; n > maxProcs/4 {
				break
			}
		}
	}
}

// exec records an execution and returns the process as it is now.
func (t *procTable) exec(ev *probes.Record, initPID uint32) *Proc {
	p := &Proc{TGID: ev.TGID, PPID: ev.PPID, CgroupID: ev.CgroupID, Exe: ev.Exe, Args: ev.Args, Comm: ev.Comm, UID: ev.UID,
		Origin: ev.Origin, CopiedUp: ev.CopiedUp, ExeDev: ev.ExeDev, ExeIno: ev.ExeIno,
		ArgsTruncated: ev.ArgsTruncated, TTY: ev.Flags&probes.FlagTTY != 0}
	if p.Exe == "" { // not resolved: the name passed to execve, never trusted to exempt
		p.Exe, p.Origin = ev.Filename, probes.OriginUnknown
	}
	if p.ArgsTruncated {
		p.Args, p.ArgsTruncated = fullArgs(ev.TGID, p.Args)
	}
	parent := t.procs[ev.PPID]
	if old := t.procs[ev.TGID]; old == nil || old.Runtime || old.CgroupID != ev.CgroupID {
		p.Launched = true
	}
	switch {
	case ev.TGID == initPID:
		p.Entrypoint = true
	case parent != nil && parent.CgroupID == ev.CgroupID && !parent.Runtime:
		p.ExecIn = parent.ExecIn
	default:
		// The first process of an exec session: its parent is the
		// runtime, outside the container.
		p.ExecIn = true
	}
	if old := t.procs[ev.TGID]; old != nil && old.CgroupID == ev.CgroupID && !old.Runtime {
		p.ExecIn, p.Entrypoint = old.ExecIn, old.Entrypoint
	}
	t.put(p)
	return p
}

// fork copies the parent's knowledge to a new child.
func (t *procTable) fork(ev *probes.Record) {
	parent := t.procs[ev.TGID]
	if parent == nil || ev.ChildPID == 0 {
		return
	}
	child := *parent
	child.TGID, child.PPID, child.Entrypoint = ev.ChildPID, ev.TGID, false
	t.put(&child)
}

func (t *procTable) exit(ev *probes.Record) { delete(t.procs, ev.TGID) }

// lookup returns the process behind a non-exec event, learning it when
// it is new: from its parent when a fork event was lost, from /proc when
// it predates podguard, or as the runtime's init otherwise.
func (t *procTable) lookup(ev *probes.Record) *Proc {
	if p := t.procs[ev.TGID]; p != nil {
		return p
	}
	if parent := t.procs[ev.PPID]; parent != nil && parent.CgroupID == ev.CgroupID {
		child := *parent
		child.TGID, child.PPID, child.Entrypoint = ev.TGID, ev.PPID, false
		t.put(&child)
		return &child
	}
	p := &Proc{TGID: ev.TGID, PPID: ev.PPID, CgroupID: ev.CgroupID, Comm: ev.Comm, UID: ev.UID, Runtime: true}
	if start, ok := procStartTicks(ev.TGID); ok && start < t.started {
		p.Runtime = false
		p.Exe, _ = os.Readlink("/proc/" + strconv.Itoa(int(ev.TGID)) + "/exe")
		if data, err := os.ReadFile("/proc/" + strconv.Itoa(int(ev.TGID)) + "/cmdline"); err == nil {
			p.Args = strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		}
	}
	t.put(p)
	return p
}

// ancestors returns up to n ancestors in the same container, nearest first.
func (t *procTable) ancestors(p *Proc, n int) []*Proc {
	var out []*Proc
	for cur := p; len(out) < n; {
		parent := t.procs[cur.PPID]
		if parent == nil || parent.CgroupID != p.CgroupID || parent == cur {
			break
		}
		out = append(out, parent)
		cur = parent
	}
	return out
}

// forgetCgroup drops every process of a container that is gone.
func (t *procTable) forgetCgroup(cgroupID uint64) {
	for tgid, p := range t.procs {
		if p.CgroupID == cgroupID {
			delete(t.procs, tgid)
		}
	}
}

// procStartTicks reads a process's start time (field 22 of /proc/pid/stat).
func procStartTicks(pid uint32) (uint64, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(fields[19], 10, 64)
	return v, err == nil
}

func selfStartTicks() uint64 {
	v, _ := procStartTicks(uint32(os.Getpid()))
	return v
}

func base(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Base(p)
}

// fullArgs reads the whole argv of a process whose argv the kernel cut,
// from /proc/<pid>/cmdline (the kernel's copy in the process's memory),
// when the process is still there and its argv begins with the part
// seen. Otherwise the cut argv stays, marked truncated.
func fullArgs(tgid uint32, cut []string) ([]string, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(tgid)) + "/cmdline")
	if err != nil || len(cut) == 0 {
		return cut, true
	}
	full := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	if len(full) < len(cut) {
		return cut, true
	}
	for i, a := range cut {
		if i == len(cut)-1 && strings.HasPrefix(full[i], a) || full[i] == a {
			continue
		}
		return cut, true
	}
	return full, false
}

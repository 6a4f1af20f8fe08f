package engine

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/podguard/podguard/probes"
)

// maxProcs is the process table's size before it looks for entries of
// processes that are gone (their exit event lost); a live process is
// never forgotten, so the table may grow to twice that, beyond which
// new processes are not remembered (counted as pressure): their events
// are then judged as those of an ordinary process of the container, never
// ignored as the runtime's.
const (
	maxProcs   = 1 << 16
	evictBatch = 1024 // entries checked per insertion while full
	// maxProcBytes bounds what the table's strings hold (executable
	// paths and argv, about 128 MiB): processes beyond it are not
	// remembered (pressure), so no workload can grow podguard's memory
	// past its MemoryMax through long paths and argv.
	maxProcBytes = 128 << 20
	procOverhead = 256 // bytes of a Proc and its map entry, roughly
)

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
	// pressure counts processes not remembered because the table was
	// full of live ones; size is the table's size after the last change
	// (both read by Engine.ProcStats from other goroutines).
	pressure atomic.Uint64
	size     atomic.Int64
	bytes    int // sum of procBytes of the entries
	// lastEvict is when the table last looked for gone processes; now
	// tells the time (tests replace it).
	lastEvict time.Time
	now       func() time.Time
	// alive, stat and cgroupOf read the kernel's process tree (/proc);
	// tests replace them.
	alive    func(tgid uint32) bool
	stat     func(pid uint32) (procStat, bool)
	cgroupOf func(pid uint32) string
	exeOf    func(pid uint32) string
	argsOf   func(pid uint32) []string
	// max is the size at which the table looks for gone processes
	// (maxProcs; tests lower it); it holds at most twice as many, and
	// at most maxBytes of strings (maxProcBytes).
	max, maxBytes int
}

func newProcTable() *procTable {
	return &procTable{procs: map[uint32]*Proc{}, started: selfStartTicks(), alive: procAlive, stat: readStat, cgroupOf: cgroupPath, exeOf: procExe, argsOf: procArgs, max: maxProcs, maxBytes: maxProcBytes, now: time.Now}
}

func procAlive(tgid uint32) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(int(tgid)))
	return err == nil
}

func (t *procTable) get(tgid uint32) *Proc { return t.procs[tgid] }

func (t *procTable) put(p *Proc) {
	old, known := t.procs[p.TGID]
	full := func() bool { return len(t.procs) >= 2*t.max || t.bytes+procBytes(p) > t.maxBytes }
	if !known && (len(t.procs) >= t.max || t.bytes+procBytes(p) > t.maxBytes) {
		// At most one sweep a second: a flood of new processes must not
		// turn every insertion into a sweep on the reader's path.
		if now := t.now(); now.Sub(t.lastEvict) >= time.Second {
			t.lastEvict = now
			t.evict()
		}
		if full() {
			t.pressure.Add(1)
			return
		}
	}
	if known {
		t.bytes -= procBytes(old)
	}
	t.procs[p.TGID] = p
	t.bytes += procBytes(p)
	t.size.Store(int64(len(t.procs)))
}

// remove forgets a process.
func (t *procTable) remove(tgid uint32) {
	if p, ok := t.procs[tgid]; ok {
		t.bytes -= procBytes(p)
		delete(t.procs, tgid)
		t.size.Store(int64(len(t.procs)))
	}
}

// procBytes is roughly the memory an entry holds.
func procBytes(p *Proc) int {
	n := procOverhead + len(p.Exe) + len(p.Comm)
	for _, a := range p.Args {
		n += len(a) + 16
	}
	return n
}

// evict drops up to evictBatch entries whose process is gone (a lost exit
// event), checking at most evictBatch entries: the cost of an insertion
// into a full table stays bounded, and a live process is never dropped.
func (t *procTable) evict() {
	n := 0
	for tgid := range t.procs {
		if n++; n > evictBatch {
			return
		}
		if !t.alive(tgid) {
			t.remove(tgid)
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
	if parent == nil && ev.PPID != 0 {
		// Its parent is unknown (podguard restarted, or its events were
		// lost): learn it from the kernel's process tree, so a shell a
		// running server spawns is not taken for an exec session.
		parent = t.learn(ev.PPID, ev.CgroupID, initPID)
	}
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

func (t *procTable) exit(ev *probes.Record) { t.remove(ev.TGID) }

// lookup returns the process behind a non-exec event, learning it when
// it is new: from its parent when a fork event was lost, else from the
// kernel's process tree (learn).
func (t *procTable) lookup(ev *probes.Record, initPID uint32) *Proc {
	if p := t.procs[ev.TGID]; p != nil {
		return p
	}
	if parent := t.procs[ev.PPID]; parent != nil && parent.CgroupID == ev.CgroupID {
		child := *parent
		child.TGID, child.PPID, child.Entrypoint = ev.TGID, ev.PPID, false
		t.put(&child)
		return &child
	}
	if p := t.learn(ev.TGID, ev.CgroupID, initPID); p != nil {
		return p
	}
	// Gone already: judged as its parent's child if the parent is a
	// process of the container (known, or still there to learn), else
	// taken for the runtime's init, which entered from outside.
	p := &Proc{TGID: ev.TGID, PPID: ev.PPID, CgroupID: ev.CgroupID, Comm: ev.Comm, UID: ev.UID, Runtime: true}
	parent := t.procs[ev.PPID]
	if parent == nil {
		parent = t.learn(ev.PPID, ev.CgroupID, initPID)
	}
	if parent != nil && parent.CgroupID == ev.CgroupID && !parent.Runtime {
		p.Runtime, p.ExecIn = false, parent.ExecIn
	}
	return p
}

// learn describes a process of the container cgroupID that the table does
// not know, from the kernel's process tree in /proc: its parent, and
// whether its line of ancestors in the container reaches the container's
// init (a process of the workload) or enters from outside at another
// process (an exec session). It is the runtime's (its events are not
// judged) only when it entered the container itself after podguard
// started, and the table has room: a process of the workload whose entry
// was lost, or whose parent is gone (reparented inside the container), is
// judged. Its executable and argv are shown as /proc has them, but an
// executable learned this way is of unknown origin and exempts nothing.
// nil when the process is gone.
func (t *procTable) learn(tgid uint32, cgroupID uint64, initPID uint32) *Proc {
	st, ok := t.stat(tgid)
	if !ok {
		return nil
	}
	p := &Proc{TGID: tgid, PPID: st.ppid, CgroupID: cgroupID, Comm: st.comm, Origin: probes.OriginUnknown}
	p.Exe, p.Args = t.exeOf(tgid), t.argsOf(tgid)
	switch {
	case !t.sameCgroup(st.ppid, tgid):
		// It entered the container itself: the runtime's init (or an
		// exec session's), before or just after its exec (its exec
		// event, which follows its earlier events, sets it right) —
		// unless it predates podguard, when it is a workload process.
		p.Runtime = st.start >= t.started && len(t.procs) < 2*t.max
		p.Entrypoint = !p.Runtime && tgid == initPID
		p.ExecIn = !p.Runtime && tgid != initPID
	default:
		p.ExecIn = !t.reachesInit(st.ppid, tgid, initPID)
	}
	t.put(p)
	return p
}

// reachesInit reports whether the line of ancestors from pid (in the
// container of member) reaches the container's init before it leaves
// the container: a process of the workload, not of an exec session.
func (t *procTable) reachesInit(pid, member, initPID uint32) bool {
	for i := 0; i < 64; i++ {
		if pid == initPID {
			return true
		}
		st, ok := t.stat(pid)
		if !ok || !t.sameCgroup(pid, member) {
			return false
		}
		pid = st.ppid
	}
	return false
}

func procExe(pid uint32) string {
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(int(pid)) + "/exe")
	return exe
}

func procArgs(pid uint32) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/cmdline")
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

type procStat struct {
	ppid  uint32
	start uint64
	comm  string
}

// readStat reads a process's parent, start time and comm from
// /proc/<pid>/stat.
func readStat(pid uint32) (procStat, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	s := string(data)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return procStat{}, false
	}
	fields := strings.Fields(s[j+1:])
	if len(fields) < 20 {
		return procStat{}, false
	}
	ppid, err1 := strconv.ParseUint(fields[1], 10, 32)
	start, err2 := strconv.ParseUint(fields[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{ppid: uint32(ppid), start: start, comm: s[i+1 : j]}, true
}

// sameCgroup reports whether process a is in the cgroup v2 of b, or one
// nested in it or around it (a child cgroup of the container).
func (t *procTable) sameCgroup(a, b uint32) bool {
	ca, cb := t.cgroupOf(a), t.cgroupOf(b)
	if ca == "" || cb == "" {
		return false
	}
	return ca == cb || strings.HasPrefix(ca, cb+"/") || strings.HasPrefix(cb, ca+"/")
}

// cgroupPath is a process's cgroup v2 path ("0::" line of /proc/pid/cgroup).
func cgroupPath(pid uint32) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/cgroup")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p
		}
	}
	return ""
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
			t.remove(tgid)
		}
	}
}

func selfStartTicks() uint64 {
	st, _ := readStat(uint32(os.Getpid()))
	return st.start
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

package bench

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/test/node"
)

// benchRulesets are added to the default ruleset (every rule, log): the
// kill and isolation scenarios raise one rule for their own pods.
var benchRulesets = map[string]string{
	"bench-kill.toml": "name = \"bench-kill\"\n[labels]\nbench = \"kill\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"terminate\"\n",
	"bench-iso.toml":  "name = \"bench-iso\"\n[labels]\nbench = \"iso\"\n[[rule]]\nid = \"shadow-file-read\"\nmitigation = \"isolate\"\n",
}

// Workload is one row of the matrix.
type Workload struct {
	Name, Kind string
	Spec       Spec
}

// Harness runs the scenarios on one node and fills the report.
type Harness struct {
	T  *testing.T
	N  *node.Node
	PG *Podguard
	// Before is a baseline build of podguard run beside PG in the storms
	// and the hook cost (BENCH_BASELINE_BIN); nil for none.
	Before *Podguard
	R      *Report
	Quick  bool
	Reps   int
	Dir    string
	Only   map[string]bool // agents to run (all when empty); "none" always runs
}

func (h *Harness) exec(p *node.Pod, container string, cmd ...string) string {
	h.T.Helper()
	out, stderr, code := p.ExecOutput(h.T, container, cmd...)
	if code != 0 {
		h.T.Fatalf("exec %q in %s: exit %d: %s", cmd, p.Name, code, stderr)
	}
	return out
}

func (h *Harness) pick(full, quick int64) int64 {
	if h.Quick {
		return quick
	}
	return full
}

func (h *Harness) agents(withEmpty bool) []Agent {
	as := []Agent{none{}}
	if withEmpty {
		as = append(as, &EmptyTP{})
	}
	as = append(as, &Auditd{Dir: filepath.Join(h.Dir, "auditd")}, &Bpftrace{Dir: filepath.Join(h.Dir, "bpftrace")}, h.PG)
	if h.Before != nil {
		as = append(as, h.Before)
	}
	var out []Agent
	for _, a := range as {
		if len(h.Only) > 0 && !h.Only[a.Name()] && a.Name() != "none" {
			continue
		}
		if why := unavailable(a); why != "" {
			h.R.note(fmt.Sprintf("%s not measured: %s", a.Name(), why))
			continue
		}
		out = append(out, a)
	}
	return out
}

// unavailable says why a peer agent cannot run here ("" when it can).
func unavailable(a Agent) string {
	switch a.(type) {
	case *Auditd:
		if _, err := exec.LookPath("auditd"); err != nil {
			return "auditd is not installed (apt-get install auditd)"
		}
		st, err := auditStatus()
		if err != nil {
			return err.Error()
		}
		if st["pid"] != "0" {
			return "the host already runs an audit daemon (pid " + st["pid"] + "); the harness does not touch it"
		}
	case *Bpftrace:
		if _, err := exec.LookPath("bpftrace"); err != nil {
			return "bpftrace is not installed (apt-get install bpftrace)"
		}
	}
	return ""
}

// Matrix runs each storm with each agent, Reps times, interleaved.
func (h *Harness) Matrix() {
	p := h.N.CreatePod(h.T, node.PodSpec{Name: "storm", Labels: map[string]string{"bench": "storm"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	h.exec(p, "app", "sh", "-c", "touch /dev/shm/bench-file "+passPath+" /etc/shadow && chmod 600 /etc/shadow && grep -q ' /dev/shm tmpfs' /proc/mounts")
	tg := newTarget(p, "app")
	nExec, nOps := h.pick(3000, 200), h.pick(100000, 20000)
	// auditd makes each open or connect wait for its record (hundreds of
	// µs): its runs of those storms are a fifth as long.
	auditN := func(a Agent, s Spec) Spec {
		if _, ok := a.(*Auditd); ok && s.Kind != "exec" {
			s.N /= 5
		}
		return s
	}
	ws := []Workload{
		{"exec storm (fork+exec of busybox `true`)", "exec", Spec{Kind: "exec", N: nExec, Path: "/bin/true"}},
		{"open storm, 0% matching (tmpfs /dev/shm file)", "open", Spec{Kind: "open", N: nOps, Path: "/dev/shm/bench-file"}},
		{"open storm, 0% matching, passed by podguard's kernel filter (" + passPath + ")", "open", Spec{Kind: "open", N: nOps, Path: passPath}},
		{"open storm, 100% matching (/etc/shadow, shadow-file-read)", "open", Spec{Kind: "open", N: nOps, Path: "/etc/shadow"}},
		{"connect storm (UDP connect to 127.0.0.1 in the pod netns)", "connect", Spec{Kind: "connect", N: nOps, Addr: "127.0.0.1:9", NetNS: tg.NetNS}},
	}
	// Podguard's memory at idle, before any storm.
	if err := h.PG.Start(); err != nil {
		h.T.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	rss, hwm, _ := procMem(h.PG.PIDs()[0])
	h.R.RSSIdle = Sample{float64(rss)}
	h.R.HWMIdle = Sample{float64(hwm)}
	h.R.HWMStartup = Sample{float64(h.PG.StartupHWM)}
	h.PG.Stop()

	agents := h.agents(true)
	for _, a := range agents {
		h.R.Agents = append(h.R.Agents, a.Name())
	}
	for rep := 0; rep < h.Reps; rep++ {
		for _, w := range ws {
			for _, a := range agents {
				var after func(Agent)
				if _, ok := a.(*Podguard); ok && w.Kind == "exec" {
					after = func(a Agent) {
						m, _ := procMemAll(a.PIDs()[0])
						h.R.RSSStorm = append(h.R.RSSStorm, float64(m["VmRSS"]))
						h.R.HWMStorm = append(h.R.HWMStorm, float64(m["VmHWM"]))
						h.R.AnonStorm = append(h.R.AnonStorm, float64(m["RssAnon"]))
						h.R.FileStorm = append(h.R.FileStorm, float64(m["RssFile"]))
						h.R.Smaps = smapsTop(a.PIDs()[0], 5)
					}
				}
				Once(h.T, a, tg, w.Kind, auditN(a, w.Spec), h.R.cell(w.Name, a.Name()), after)
			}
		}
	}
	p.Delete(h.T)
}

// HookName is the matrix row of the hook-cost comparison.
const HookName = "hook cost: open storm, 0% matching, 200K open+close, 7 alternating runs"

// Hook compares the per-syscall cost of podguard's hook with an empty raw
// tracepoint program and with no hook, in alternating runs.
func (h *Harness) Hook() {
	p := h.N.CreatePod(h.T, node.PodSpec{Name: "hook", Labels: map[string]string{"bench": "storm"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	h.exec(p, "app", "touch", "/dev/shm/bench-file")
	tg := newTarget(p, "app")
	reps := int(h.pick(7, 2))
	// The kernel's own accounting of BPF run time (bpf_stats) for the
	// sys_enter programs, while the storm runs.
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		h.R.note("bpf run-time statistics unavailable: " + err.Error())
	} else {
		defer stats.Close()
	}
	if h.R.HookKernelNs == nil {
		h.R.HookKernelNs, h.R.HookRunsPerOp = map[string]Sample{}, map[string]Sample{}
	}
	for rep := 0; rep < reps; rep++ {
		hooked := []Agent{none{}, &EmptyTP{}, h.PG}
		if h.Before != nil {
			hooked = append(hooked, h.Before)
		}
		for _, a := range hooked {
			var progs []*ebpf.Program
			var rt0 time.Duration
			var n0 uint64
			before := maxProgramID()
			start := func(ag Agent) {
				switch ag := ag.(type) {
				case *EmptyTP:
					progs = []*ebpf.Program{ag.prog}
				case *Podguard:
					// both dispatchers: opens are judged at sys_exit
					progs = programsAfter(before, "sys_enter", "sys_exit")
				}
				rt0, n0, _ = runStats(progs)
			}
			after := func(Agent) {
				rt1, n1, err := runStats(progs)
				if err == nil && stats != nil {
					c := h.R.cell(HookName, a.Name())
					ops := c.lastOps
					h.R.HookKernelNs[a.Name()] = append(h.R.HookKernelNs[a.Name()], float64((rt1-rt0).Nanoseconds())/ops)
					h.R.HookRunsPerOp[a.Name()] = append(h.R.HookRunsPerOp[a.Name()], float64(n1-n0)/ops)
				}
				for _, p := range progs {
					if _, ok := a.(*Podguard); ok {
						p.Close()
					}
				}
			}
			OnceHooks(h.T, a, tg, "open", Spec{Kind: "open", N: h.pick(200000, 20000), Path: "/dev/shm/bench-file"}, h.R.cell(HookName, a.Name()), start, after)
		}
	}
	p.Delete(h.T)
}

// LadderStep is one paced run of the loss ladder.
type LadderStep struct {
	Target, Achieved float64 // operations per second; Target 0: unpaced
	Threads          int
	Truth, Delivered uint64
	Lost             uint64 // reported lost (drop counters, audit lost, bpftrace "Lost")
	Missing          uint64 // truth minus delivered, when positive
	AgentCPUPerOpUs  float64
	Saturated, Lossy bool
}

// passPath is opened by the storms that must reach podguard's rule
// evaluation without matching a rule: its basename starts with "token",
// a prefix the kernel's open filter passes (service-account-token-read),
// but it is no service account token.
const passPath = "/dev/shm/token.bench"

// Ladder doubles the rate of a 0%-matching open storm until the agent
// loses events (or the workload cannot go faster): the last clean step is
// the highest zero-loss rate, the next one is twice that rate. The path
// passes podguard's kernel filter, so every open reaches rule evaluation.
func (h *Harness) Ladder() {
	p := h.N.CreatePod(h.T, node.PodSpec{Name: "ladder", Labels: map[string]string{"bench": "storm"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	h.exec(p, "app", "touch", passPath)
	tg := newTarget(p, "app")
	rates := []float64{15625, 31250, 62500, 125000, 250000, 500000, 1e6, 2e6, 4e6}
	secs := 2.0
	if h.Quick {
		secs = 0.3
	}
	h.R.Ladder = map[string][]LadderStep{}
	for _, a := range h.agents(false) {
		if a.Name() == "none" {
			continue
		}
		h.ladder(a, a.Name(), tg, Spec{Kind: "open", Path: passPath}, rates, secs)
		if a.Name() == "podguard" {
			// The same with podguard's cheapest delivered event: the
			// workload's syscall costs far less than an open, so the
			// ladder climbs to the pipeline's own limit.
			h.ladder(a, ladderKill, tg, Spec{Kind: "kill"}, rates[3:], secs)
		}
	}
	p.Delete(h.T)
}

// ladderKill names podguard's ladder on a kill(self, 0) storm.
const ladderKill = "podguard, kill(self, 0) storm"

// ladder runs one agent's rate ladder on workload base (Kind and Path or
// Addr set) and records it under name.
func (h *Harness) ladder(a Agent, name string, tg Target, base Spec, rates []float64, secs float64) {
	step := func(rate float64, threads int, n int64) LadderStep {
		c := &Cell{}
		s := base
		s.N, s.Rate, s.Threads = n, rate, threads
		res := Once(h.T, a, tg, base.Kind, s, c, nil)
		st := LadderStep{Target: rate, Threads: threads, Achieved: float64(res.Ops) / res.Elapsed().Seconds(), Truth: uint64(res.Ops),
			Delivered: uint64(c.Delivered[0]), Lost: uint64(c.Lost[0])}
		if len(c.CPUPerOp) > 0 {
			st.AgentCPUPerOpUs = c.CPUPerOp[0]
		}
		if st.Delivered < st.Truth {
			st.Missing = st.Truth - st.Delivered
		}
		st.Lossy = st.Lost > 0 || st.Missing > 0
		st.Saturated = rate > 0 && st.Achieved < 0.9*rate
		h.R.Ladder[name] = append(h.R.Ladder[name], st)
		return st
	}
	for _, rate := range rates {
		threads := 1
		if rate >= 250000 {
			threads = 2
		}
		st := step(rate, threads, int64(rate*secs))
		if st.Lossy {
			break
		}
		if st.Saturated {
			// The workload cannot go faster paced: one more run, as fast
			// as two threads go, for the loss at the highest rate here.
			if _, isAuditd := a.(*Auditd); !isAuditd {
				step(0, 2, int64(2*st.Achieved*secs))
			}
			break
		}
	}
}

// observed is an event line and when a reader tailing the file saw it.
type observed struct {
	ev events.Event
	at time.Time
}

// Tail follows an events file with inotify and stamps each line with the
// CLOCK_REALTIME time its read returned.
type Tail struct {
	mu   sync.Mutex
	seen []observed
	stop chan struct{}
	done chan error
}

func StartTail(path string) *Tail {
	t := &Tail{stop: make(chan struct{}), done: make(chan error, 1)}
	go func() { t.done <- t.run(path) }()
	return t
}

func (t *Tail) run(path string) error {
	var f *os.File
	for f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			select {
			case <-t.stop:
				return err
			case <-time.After(time.Millisecond):
			}
		}
	}
	defer f.Close()
	in, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, path, unix.IN_MODIFY); err != nil {
		return err
	}
	var partial []byte
	buf := make([]byte, 1<<20)
	ibuf := make([]byte, 4096)
	for {
		n, _ := f.Read(buf)
		at := time.Now()
		if n > 0 {
			data := append(partial, buf[:n]...)
			for {
				i := strings.IndexByte(string(data), '\n')
				if i < 0 {
					break
				}
				var ev events.Event
				if json.Unmarshal(data[:i], &ev) == nil {
					t.mu.Lock()
					t.seen = append(t.seen, observed{ev, at})
					t.mu.Unlock()
				}
				data = data[i+1:]
			}
			partial = append([]byte(nil), data...)
			continue
		}
		select {
		case <-t.stop:
			return nil
		default:
		}
		fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}}
		unix.Poll(fds, 50)
		unix.Read(in, ibuf)
	}
}

func (t *Tail) Stop() error { close(t.stop); return <-t.done }

func (t *Tail) Seen() []observed {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]observed(nil), t.seen...)
}

// waitFor waits for an event the predicate accepts.
func (t *Tail) waitFor(within time.Duration, ok func(events.Event) bool) (observed, bool) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, o := range t.Seen() {
			if ok(o.ev) {
				return o, true
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return observed{}, false
}

// Latency measures the delivery latency of events: the kernel time of the
// syscall (`time`) to the moment a reader tailing the events file reads the
// line. Each trigger is the first of its fold window (rule × container),
// so it is written at once.
func (h *Harness) Latency() {
	k := int(h.pick(12, 3))
	var cs []node.ContainerSpec
	for i := 0; i < k; i++ {
		cs = append(cs, node.ContainerSpec{Name: fmt.Sprintf("c%d", i)})
	}
	p := h.N.CreatePod(h.T, node.PodSpec{Name: "lat", Labels: map[string]string{"bench": "lat"}, Containers: cs})
	var tgs []Target
	for _, c := range cs {
		h.exec(p, c.Name, "sh", "-c", "mkdir -p /root/.ssh && touch /root/.ssh/id_rsa /etc/shadow "+passPath)
		tgs = append(tgs, newTarget(p, c.Name))
	}
	rules := map[string]string{"/etc/shadow": "shadow-file-read", "/root/.ssh/id_rsa": "private-key-read"}
	run := func(load bool, windows int) Sample {
		if err := h.PG.Start(); err != nil {
			h.T.Fatal(err)
		}
		defer h.PG.Stop()
		tail := StartTail(h.PG.EventsFile())
		var bg chan error
		if load {
			// Background: a 0%-matching open storm in another container of the pod.
			bg = make(chan error, 1)
			go func() {
				_, err := tgs[0].Run(Spec{Kind: "open", N: int64(200000 * (10*windows + 2)), Rate: 200000, Path: passPath})
				bg <- err
			}()
		}
		for w := 0; w < windows; w++ {
			begin := time.Now()
			for i, tg := range tgs {
				if load && i == 0 {
					continue
				}
				for path := range rules {
					if _, err := tg.Run(Spec{Kind: "open", N: 1, Path: path}); err != nil {
						h.T.Fatal(err)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			if w < windows-1 {
				time.Sleep(time.Until(begin.Add(10500 * time.Millisecond)))
			}
		}
		time.Sleep(500 * time.Millisecond)
		if bg != nil {
			if err := <-bg; err != nil {
				h.T.Errorf("background storm: %v", err)
			}
		}
		tail.Stop()
		var s Sample
		for _, o := range tail.Seen() {
			if o.ev.Pod.UID != p.UID || o.ev.Folded || o.ev.Count > 1 {
				continue
			}
			if o.ev.Rule.ID == "shadow-file-read" || o.ev.Rule.ID == "private-key-read" {
				s = append(s, float64(o.at.Sub(o.ev.Time).Nanoseconds())/1000)
			}
		}
		sorted := append(Sample(nil), s...)
		sort.Float64s(sorted)
		h.T.Logf("latency (load=%v): %d samples, p50 %.0f µs p99 %.0f µs; sorted: %.0f", load, len(s), s.Median(), s.Quantile(0.99), sorted)
		return s
	}
	h.R.LatencyUs = run(false, int(h.pick(3, 1)))
	h.R.LatencyLoadUs = run(true, int(h.pick(2, 1)))
	p.Delete(h.T)
}

// KillSample is one in-kernel kill of a drifted binary.
type KillSample struct {
	Killed, MarkerWritten, KilledInKernel bool
	ExecToReaped                          time.Duration // event time → the parent's wait returned
	ForkToReaped                          time.Duration
}

// Kill runs a binary copied into the container (drift) that would create
// a marker file; container-drift with terminate kills it in the kernel.
func (h *Harness) Kill() {
	if err := h.PG.Start(); err != nil {
		h.T.Fatal(err)
	}
	defer h.PG.Stop()
	tail := StartTail(h.PG.EventsFile())
	defer tail.Stop()
	for i := 0; i < int(h.pick(5, 2)); i++ {
		p := h.N.CreatePod(h.T, node.PodSpec{Name: fmt.Sprintf("kill-%d", i), Labels: map[string]string{"bench": "kill"},
			Containers: []node.ContainerSpec{{Name: "app"}}})
		h.exec(p, "app", "cp", "/bin/busybox", "/tmp/bb")
		tg := newTarget(p, "app")
		if err := h.PG.WaitWatched(1); err != nil {
			h.T.Fatal(err)
		}
		marker := filepath.Join(h.Dir, fmt.Sprintf("kill-marker-%d", i))
		cg, err := os.Open(tg.CgPath)
		if err != nil {
			h.T.Fatal(err)
		}
		cmd := &exec.Cmd{Path: tg.Root + "/tmp/bb", Args: []string{"bb", "touch", marker},
			SysProcAttr: &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}}
		t0 := time.Now()
		err = cmd.Run()
		t1 := time.Now()
		cg.Close()
		var ks KillSample
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			ks.Killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
		}
		_, serr := os.Stat(marker)
		ks.MarkerWritten = serr == nil
		ks.ForkToReaped = t1.Sub(t0)
		if o, ok := tail.waitFor(10*time.Second, func(ev events.Event) bool {
			return ev.Pod.UID == p.UID && ev.Rule.ID == "container-drift"
		}); ok {
			ks.KilledInKernel = o.ev.Process.KilledInKernel
			ks.ExecToReaped = t1.Sub(o.ev.Time)
		}
		h.T.Logf("kill %d: %+v (run err %v)", i, ks, err)
		h.R.Kill = append(h.R.Kill, ks)
		p.Delete(h.T)
	}
}

// Isolation floods UDP datagrams from an isolate-labelled pod to the
// node's gateway, reads /etc/shadow mid-flood, and counts on the host the
// datagrams received after the mitigation's applied_at.
func (h *Harness) Isolation() {
	// The pod and its /etc/shadow are made before podguard starts: creating
	// the file is itself a read-or-write of /etc/shadow.
	p := h.N.CreatePod(h.T, node.PodSpec{Name: "iso", Labels: map[string]string{"bench": "iso"},
		Containers: []node.ContainerSpec{{Name: "app"}}})
	h.exec(p, "app", "touch", "/etc/shadow")
	tg := newTarget(p, "app")
	if err := h.PG.Start(tg.CgID); err != nil {
		h.T.Fatal(err)
	}
	defer h.PG.Stop()
	tail := StartTail(h.PG.EventsFile())
	defer tail.Stop()
	if err := h.PG.WaitWatched(1); err != nil {
		h.T.Fatal(err)
	}
	gw := netip.MustParsePrefix(h.N.Subnet()).Addr().Next()
	rx, err := listenUDP(gw, 9999)
	if err != nil {
		h.T.Fatal(err)
	}
	defer rx.Close()
	// Warm up (neighbour resolution, the path through the bridge): no trigger.
	h.exec(p, "app", "ping", "-c", "2", "-W", "2", gw.String())
	if res, err := tg.Run(Spec{Kind: "flood", Rate: 20000, Duration: 300 * time.Millisecond, TriggerAfter: time.Hour,
		Addr: gw.String() + ":9999", NetNS: tg.NetNS}); err != nil {
		h.T.Fatal(err)
	} else {
		time.Sleep(50 * time.Millisecond)
		h.T.Logf("warm-up flood: received %d of %d", len(rx.Times()), res.Ops)
	}
	seen := 0
	for i := 0; i < int(h.pick(10, 2)); i++ {
		rx.Reset()
		res, err := tg.Run(Spec{Kind: "flood", Rate: 20000, Duration: 800 * time.Millisecond, TriggerAfter: 300 * time.Millisecond,
			Path: "/etc/shadow", Addr: gw.String() + ":9999", NetNS: tg.NetNS})
		if err != nil {
			h.T.Fatal(err)
		}
		n := 0
		o, ok := tail.waitFor(10*time.Second, func(ev events.Event) bool {
			if ev.Pod.UID == p.UID && ev.Rule.ID == "shadow-file-read" && !ev.Folded {
				n++
				return n > seen
			}
			return false
		})
		if !ok {
			h.T.Fatalf("no isolation event %d", i)
		}
		seen++
		time.Sleep(100 * time.Millisecond)
		m := o.ev.Mitigation
		if m.Result != "applied" || m.AppliedAt.IsZero() {
			h.T.Fatalf("mitigation %+v", m)
		}
		got := rx.Times()
		var after, sinceSyscall int
		for _, ts := range got {
			if ts.After(m.AppliedAt) {
				after++
			}
			if ts.After(o.ev.Time) {
				sinceSyscall++
			}
		}
		h.R.IsolationUs = append(h.R.IsolationUs, float64(m.AppliedAt.Sub(o.ev.Time).Nanoseconds())/1000)
		h.R.Leaked = append(h.R.Leaked, float64(after))
		h.R.InWindow = append(h.R.InWindow, float64(sinceSyscall-after))
		h.R.FloodSent = append(h.R.FloodSent, float64(res.Ops))
		h.R.FloodRecv = append(h.R.FloodRecv, float64(len(got)))
		h.T.Logf("isolation %d: %v, received %d of %d (send errors %d: %s), %d after the syscall before applied_at, %d after applied_at",
			i, m.AppliedAt.Sub(o.ev.Time), len(got), res.Ops, res.Errors, res.FirstErr, sinceSyscall-after, after)
		if out, err := h.PG.CLI("release", p.UID); err != nil {
			h.T.Fatalf("release: %v: %s", err, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	p.Delete(h.T)
}

// udpRx receives datagrams on the host and keeps their kernel receive
// timestamps (SO_TIMESTAMPNS).
type udpRx struct {
	fd    int
	mu    sync.Mutex
	times []time.Time
	done  chan struct{}
}

func listenUDP(addr netip.Addr, port int) (*udpRx, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 32<<20)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000})
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: addr.As4()}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s:%d: %w", addr, port, err)
	}
	r := &udpRx{fd: fd, done: make(chan struct{})}
	go r.loop()
	return r, nil
}

func (r *udpRx) loop() {
	defer close(r.done)
	buf := make([]byte, 64)
	oob := make([]byte, 128)
	for {
		_, oobn, _, _, err := unix.Recvmsg(r.fd, buf, oob, 0)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16 {
				sec := int64(binary.LittleEndian.Uint64(m.Data[0:8]))
				nsec := int64(binary.LittleEndian.Uint64(m.Data[8:16]))
				r.mu.Lock()
				r.times = append(r.times, time.Unix(sec, nsec))
				r.mu.Unlock()
			}
		}
	}
}

func (r *udpRx) Reset() { r.mu.Lock(); r.times = nil; r.mu.Unlock() }
func (r *udpRx) Times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times...)
}
func (r *udpRx) Close() { unix.Shutdown(r.fd, unix.SHUT_RDWR); unix.Close(r.fd); <-r.done }

// Mixed serves a page from busybox httpd in one pod to busybox wget in
// another, under each agent, counting the requests that succeeded.
func (h *Harness) Mixed() {
	web := h.N.CreatePod(h.T, node.PodSpec{Name: "web", Labels: map[string]string{"bench": "web"}, Containers: []node.ContainerSpec{{Name: "web",
		Command: []string{"sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"}}}})
	cli := h.N.CreatePod(h.T, node.PodSpec{Name: "client", Labels: map[string]string{"bench": "client"}, Containers: []node.ContainerSpec{{Name: "app"}}})
	cgs := []uint64{web.CgroupID("web"), cli.CgroupID("app")}
	nreq := h.pick(300, 20)
	script := fmt.Sprintf("i=0; ok=0; while [ $i -lt %d ]; do timeout 5 wget -q -O /dev/null http://%s:8080/index.html && ok=$((ok+1)); i=$((i+1)); done; echo $ok", nreq, web.IP())
	time.Sleep(500 * time.Millisecond)
	name := fmt.Sprintf("mixed: %d HTTP GETs, busybox wget → busybox httpd (pod to pod)", nreq)
	for rep := 0; rep < h.Reps; rep++ {
		for _, a := range h.agents(false) {
			if au, ok := a.(*Auditd); ok {
				au.All = true
				defer func() { au.All = false }()
			}
			if err := a.Start(cgs...); err != nil {
				h.T.Fatalf("start %s: %v", a.Name(), err)
			}
			pids := a.PIDs()
			c0 := cpuOf(pids)
			t0 := time.Now()
			out := h.exec(cli, "app", "sh", "-c", script)
			el := time.Since(t0)
			drain(a, "exec", 400*time.Millisecond, 30*time.Second)
			c1 := cpuOf(pids)
			a.Stop()
			okN, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
			cpu := make([]time.Duration, len(pids))
			for i := range pids {
				cpu[i] = c1[i] - c0[i]
			}
			res := Result{Ops: okN, StartNs: t0.UnixNano(), EndNs: t0.Add(el).UnixNano(), Errors: nreq - okN}
			c := h.R.cell(name, a.Name())
			c.NoCounts = true
			c.add(res, cpu, 0, 0)
			h.T.Logf("%-9s mixed: %d/%d ok in %v cpu %v", a.Name(), okN, nreq, el.Round(time.Millisecond), cpu)
		}
	}
	web.Delete(h.T)
	cli.Delete(h.T)
}

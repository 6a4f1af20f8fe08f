package bench

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Command is how to reproduce BENCHMARKS.md.
const Command = "go test -tags bench -count=1 -timeout 90m -v -run TestBenchmarks ./test/bench/"

// Report is everything the harness measured.
type Report struct {
	Started, Finished time.Time
	Machine           string
	Versions          map[string]string
	Reps              int
	Quick, Shared     bool

	Workloads []string // matrix rows, in order
	Agents    []string
	Cells     map[string]map[string]*Cell // workload → agent

	Ladder map[string][]LadderStep // agent → steps

	LatencyUs, LatencyLoadUs Sample
	Kill                     []KillSample
	IsolationUs, Leaked      Sample
	InWindow                 Sample
	FloodSent, FloodRecv     Sample

	RSSIdle, HWMIdle, RSSStorm, HWMStorm Sample   // KiB
	HWMStartup                           Sample   // KiB: VmHWM once ready (the peak of loading)
	AnonStorm, FileStorm                 Sample   // KiB: RssAnon, RssFile after the exec storm
	Smaps                                []string // largest resident mappings after the last exec storm

	Profiles []Profile
	Engine   []EngineResult
	Notes    []string

	// HookKernelNs is the BPF run time (bpf_stats) of the sys_enter
	// programs per open+close pair, by agent; HookRunsPerOp their runs.
	HookKernelNs, HookRunsPerOp map[string]Sample
}

func (r *Report) note(s string) {
	for _, n := range r.Notes {
		if n == s {
			return
		}
	}
	r.Notes = append(r.Notes, s)
}

// EngineResult is one rule-evaluation micro-benchmark.
type EngineResult struct {
	Name                    string
	NsPerOp                 float64
	AllocsPerOp, BytesPerOp int64
}

func (r *Report) cell(workload, agent string) *Cell {
	if r.Cells[workload] == nil {
		r.Cells[workload] = map[string]*Cell{}
		r.Workloads = append(r.Workloads, workload)
	}
	c := r.Cells[workload][agent]
	if c == nil {
		c = &Cell{}
		r.Cells[workload][agent] = c
	}
	return c
}

func fnum(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.3g×", a/b)
}

func metGap(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**gap**"
}

// Markdown renders the report.
// beforeLabel names the baseline build in the report (BENCH_BASELINE_BIN).
const beforeLabel = "podguard (before)"

func (r *Report) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# podguard benchmarks\n\n")
	p("Written by the harness in `test/bench` (project issue #8); do not edit by hand.\n\n")
	p("- Date: %s", r.Started.Format("2006-01-02 15:04 MST"))
	if !r.Finished.IsZero() {
		p(" – %s", r.Finished.Format("15:04 MST"))
	} else {
		p(" (run still in progress or stopped early: sections below may be missing)")
	}
	p("\n- Machine: %s\n", r.Machine)
	p("- Peers: auditd %s, %s; %s\n", r.Versions["auditd"], r.Versions["bpftrace"], r.Versions["containerd"])
	p("- Repetitions per cell: %d (a cell shows the median, with min–max in parentheses)\n", r.Reps)
	if r.Quick {
		p("- **BENCH_QUICK run: small counts, for checking the harness only; numbers are not meaningful.**\n")
	}
	if r.Shared {
		p("- **The machine was shared with other test runs during this run: wall-time numbers are noisy.**\n")
	}
	p("- Reproduce (root; Debian packages containerd runc containernetworking-plugins busybox-static auditd bpftrace):\n\n  ```\n  %s\n  ```\n\n", Command)

	for _, n := range r.Notes {
		p("- Note: %s\n", n)
	}
	if len(r.Notes) > 0 {
		p("\n")
	}
	r.targets(p)
	r.matrix(p)
	r.ladder(p)
	r.latency(p)
	r.profiles(p)
	r.engine(p)
	r.method(p)
	return b.String()
}

func (r *Report) get(workload, agent string) *Cell {
	if r.Cells[workload] == nil {
		return &Cell{}
	}
	if c := r.Cells[workload][agent]; c != nil {
		return c
	}
	return &Cell{}
}

func (r *Report) workload(prefix string) string {
	for _, w := range r.Workloads {
		if strings.HasPrefix(w, prefix) {
			return w
		}
	}
	return ""
}

func (r *Report) targets(p func(string, ...any)) {
	p("## Targets (issue #8)\n\n| target | measured | verdict | what limits it (from the measurements below) |\n| --- | --- | --- | --- |\n")
	eng := func(prefix string) float64 {
		for _, e := range r.Engine {
			if strings.HasPrefix(e.Name, prefix) {
				return e.NsPerOp
			}
		}
		return math.NaN()
	}
	if w := r.workload("exec storm"); w != "" {
		pg, au, no := r.get(w, "podguard"), r.get(w, "auditd"), r.get(w, "none")
		pgc := pg.CPUPerOp.Median()
		auc := au.CPUPerOp.Median() + au.KCPUPerOp.Median()
		p("| exec storm: podguard CPU per exec ≤ 1/10 of auditd's | podguard %s µs, auditd %s µs (auditd %s + kauditd %s): podguard is %s of auditd | %s | %s kernel events per exec (fork, exec, exit); evaluating them costs %s µs (rule-evaluation micro-benchmark), fork and exit ride along with the exec's record, so the reader wakes once per exec; the rest is that wakeup, in the kernel and the Go scheduler (see the perf profile) |\n",
			fnum(pgc, "%.1f"), fnum(auc, "%.1f"), fnum(au.CPUPerOp.Median(), "%.1f"), fnum(au.KCPUPerOp.Median(), "%.1f"), ratio(pgc, auc), metGap(pgc <= auc/10),
			fnum(pg.AllPerOp.Median(), "%.2f"), fnum(eng("exec")/1000, "%.1f"))
		ov := pg.NsPerOp.Median()/no.NsPerOp.Median() - 1
		em := r.get(w, "empty-raw-tp")
		p("| exec storm: wall overhead ≤ 2%% | %s (%s vs %s µs per exec; with no agent the runs spread %s–%s µs) | %s | podguard's own CPU per exec (%s µs) is %s of an exec's wall time and competes with the workload for the 2 cores; an empty raw tracepoint on every syscall changes the exec's wall time by %s |\n", fnum(100*ov, "%+.1f%%"),
			fnum(pg.NsPerOp.Median()/1000, "%.1f"), fnum(no.NsPerOp.Median()/1000, "%.1f"), fnum(no.NsPerOp.Min()/1000, "%.0f"), fnum(no.NsPerOp.Max()/1000, "%.0f"), metGap(ov <= 0.02),
			fnum(pgc, "%.0f"), fnum(100*pgc*1000/pg.NsPerOp.Median(), "%.0f%%"), fnum(100*(em.NsPerOp.Median()/no.NsPerOp.Median()-1), "%+.1f%%"))
	}
	w := r.workload(HookName)
	if w == "" {
		w = r.workload("open storm, 0%")
	}
	if w != "" {
		pg, em := r.get(w, "podguard"), r.get(w, "empty-raw-tp")
		d := pg.NsPerOp.Median() - em.NsPerOp.Median()
		kp, ke := r.HookKernelNs["podguard"].Median(), r.HookKernelNs["empty-raw-tp"].Median()
		why := "a non-matching open is dropped in the kernel (open prefilter), but it still pays for the sys_enter and sys_exit dispatchers, which run for every syscall of a watched container (close too), for the arguments kept from entry to exit, and for resolving the opened file's path (a dentry walk across mounts, one read per component) before the filter's two LPM trie lookups; each helper call is expensive on this CPU"
		if kb := r.HookKernelNs[beforeLabel].Median(); !math.IsNaN(kb) && kb > 0 {
			why += fmt.Sprintf("; the baseline build (%s) in the same run: %.0f ns per pair in the kernel", beforeLabel, kb)
		}
		if !math.IsNaN(kp) && !math.IsNaN(ke) {
			runs := r.HookRunsPerOp["podguard"].Median()
			kd := kp - ke
			p("| open storm, 0%% matching: within 10 ns per syscall of an empty raw tracepoint | in-kernel (bpf_stats run time of the sys_enter and sys_exit programs): podguard %s ns vs empty %s ns per open+close pair (%s program runs per pair): +%s ns per pair, +%s ns per program run; workload wall time +%s ns per pair (%s vs %s ns) | %s | %s |\n",
				fnum(kp, "%.0f"), fnum(ke, "%.0f"), fnum(runs, "%.2f"), fnum(kd, "%.0f"), fnum(kd/runs, "%.0f"), fnum(d, "%.0f"),
				fnum(pg.NsPerOp.Median(), "%.0f"), fnum(em.NsPerOp.Median(), "%.0f"), metGap(kd/runs <= 10), why)
		} else {
			p("| open storm, 0%% matching: within 10 ns per syscall of an empty raw tracepoint | +%s ns per open+close pair over the empty program (%s vs %s ns) | %s | %s |\n",
				fnum(d, "%.0f"), fnum(pg.NsPerOp.Median(), "%.0f"), fnum(em.NsPerOp.Median(), "%.0f"), metGap(d <= 10), why)
		}
	}
	for _, name := range []string{"podguard", ladderKill} {
		steps := r.Ladder[name]
		if len(steps) == 0 {
			continue
		}
		best, next := zeroLoss(steps)
		last := steps[len(steps)-1]
		what := "open storm (" + passPath + ")"
		if name == ladderKill {
			what = "kill(self, 0) storm"
		}
		p("| zero loss at ≥ 500K events/s delivered to rule evaluation (%s) | %s | %s | podguard spends %s µs of CPU per event at the last step (one core: about %s events/s); rule evaluation alone is %s ns per non-matching open; the rest is decoding, allocation and GC, and wakeups; the workload shares the 2 cores with it |\n",
			what, ladderWords(best, next), metGap(best != nil && best.Achieved >= 500000), fnum(last.AgentCPUPerOpUs, "%.1f"), fnum(1e6/last.AgentCPUPerOpUs/1000, "%.0fK"), fnum(eng("open, 0%"), "%.0f"))
	}
	if len(r.LatencyUs) > 0 {
		p99 := math.Max(r.LatencyUs.Quantile(0.99), r.LatencyLoadUs.Quantile(0.99))
		p("| delivery latency p99 ≤ 1 ms | idle p99 %s µs (p50 %s, n=%d); under a 200K/s open storm p99 %s µs (p50 %s, n=%d) | %s | each event crosses three wakeups (ring buffer reader, which also evaluates the rules; writer; file reader); the tail is scheduling delay on 2 cores, larger while a storm keeps both busy |\n",
			fnum(r.LatencyUs.Quantile(0.99), "%.0f"), fnum(r.LatencyUs.Median(), "%.0f"), len(r.LatencyUs),
			fnum(r.LatencyLoadUs.Quantile(0.99), "%.0f"), fnum(r.LatencyLoadUs.Median(), "%.0f"), len(r.LatencyLoadUs), metGap(p99 <= 1000))
	}
	if len(r.IsolationUs) > 0 {
		p99 := r.IsolationUs.Quantile(0.99)
		rest := Sample(r.IsolationUs[1:])
		p("| isolation ≤ 5 ms p99 | p99 %s ms, p50 %s ms (n=%d); datagrams received after applied_at: max %s | %s | the first isolation of a podguard instance took %s ms, the later ones at most %s ms |\n",
			fnum(p99/1000, "%.2f"), fnum(r.IsolationUs.Median()/1000, "%.2f"), len(r.IsolationUs), fnum(r.Leaked.Max(), "%.0f"), metGap(p99 <= 5000 && r.Leaked.Max() == 0),
			fnum(r.IsolationUs[0]/1000, "%.2f"), fnum(rest.Max()/1000, "%.2f"))
	}
	if len(r.Kill) > 0 {
		ok := 0
		for _, k := range r.Kill {
			if k.Killed && !k.MarkerWritten && k.KilledInKernel {
				ok++
			}
		}
		p("| in-kernel kill before the next user instruction | %d of %d drifted binaries killed by SIGKILL at exec with `killed_in_kernel`, marker file never written | %s | — |\n", ok, len(r.Kill), metGap(ok == len(r.Kill)))
	}
	if len(r.HWMStorm) > 0 {
		mb := r.HWMStorm.Max() / 1024
		p("| RSS ≤ 30 MB under the exec storm | peak during the storm (VmHWM since podguard was ready, max over runs) %s MiB = %s MB; VmRSS after the storm %s MiB, idle %s MiB; the startup peak (loading BTF and programs) %s MiB | %s | file-backed pages are %s MiB of it: the binary's code and read-only tables (most of both segments is resident, see the mappings under the storms) and the 2 MiB ring buffer, whose pages the kernel maps twice, all at once when podguard maps the ring; anonymous memory (Go heap and runtime) %s MiB |\n",
			fnum(mb, "%.1f"), fnum(r.HWMStorm.Max()*1024/1e6, "%.1f"), fnum(r.RSSStorm.Median()/1024, "%.1f"), fnum(r.RSSIdle.Median()/1024, "%.1f"), fnum(r.HWMStartup.Max()/1024, "%.1f"), metGap(r.HWMStorm.Max()*1024 <= 30e6),
			fnum(r.FileStorm.Median()/1024, "%.1f"), fnum(r.AnonStorm.Median()/1024, "%.1f"))
	}
	p("\n")
}

func zeroLoss(steps []LadderStep) (best, next *LadderStep) {
	for i := range steps {
		s := &steps[i]
		if s.Lossy {
			return best, s
		}
		best = s
	}
	return best, nil
}

func ladderWords(best, next *LadderStep) string {
	var w string
	if best != nil && best.Target == 0 {
		w = fmt.Sprintf("no loss up to %s events/s (the workload's fastest: 2 threads, unpaced)", fnum(best.Achieved/1000, "%.0fK"))
	} else if best != nil {
		w = fmt.Sprintf("no loss up to %s events/s (target %s)", fnum(best.Achieved/1000, "%.0fK"), fnum(best.Target/1000, "%.0fK"))
	} else {
		w = "lost events at the lowest rate"
	}
	switch {
	case next != nil && next.Target == 0:
		w += fmt.Sprintf("; the workload's fastest run here (2 threads, unpaced: %s/s) lost %d of %d (%s)", fnum(next.Achieved/1000, "%.0fK"),
			max(next.Lost, next.Missing), next.Truth, fnum(100*float64(max(next.Lost, next.Missing))/float64(next.Truth), "%.2f%%"))
	case next != nil:
		w += fmt.Sprintf("; at %s/s (achieved %s/s) lost %d of %d (%s)", fnum(next.Target/1000, "%.0fK"), fnum(next.Achieved/1000, "%.0fK"),
			max(next.Lost, next.Missing), next.Truth, fnum(100*float64(max(next.Lost, next.Missing))/float64(next.Truth), "%.2f%%"))
	case best != nil && best.Target == 0:
	case best != nil && best.Saturated:
		w += fmt.Sprintf(" — the workload reached only %s/s of the %s/s asked under this agent, so no higher rate was tried",
			fnum(best.Achieved/1000, "%.0fK"), fnum(best.Target/1000, "%.0fK"))
	}
	return w
}

func (r *Report) matrix(p func(string, ...any)) {
	if len(r.Workloads) == 0 {
		return
	}
	p("## Storms: cost per operation\n\n")
	p("Wall time is the workload's own (it counts its operations); agent CPU is the agent's user+system time during the run and its drain, divided by the workload's operation count. For auditd, kauditd (the kernel thread that feeds it) is shown separately. The in-syscall cost of a hook (BPF programs, audit's syscall exit) is paid by the workload and shows in its wall time.\n\n")
	for _, w := range r.Workloads {
		none := r.get(w, "none")
		p("### %s\n\n| agent | wall per op | overhead vs none | agent CPU per op | kauditd CPU per op | events delivered | lost | ops |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n", w)
		for _, a := range []string{"none", "empty-raw-tp", "auditd", "bpftrace", "podguard", beforeLabel} {
			c := r.Cells[w][a]
			if c == nil {
				continue
			}
			unit, scale := "ns", 1.0
			if none.NsPerOp.Median() > 20000 {
				unit, scale = "µs", 1000
			}
			wall := Sample{}
			for _, v := range c.NsPerOp {
				wall = append(wall, v/scale)
			}
			ov := "—"
			if a != "none" {
				ov = fnum(100*(c.NsPerOp.Median()/none.NsPerOp.Median()-1), "%+.1f%%")
			}
			cpu, kcpu := "—", "—"
			if len(c.CPUPerOp) > 0 {
				cpu = c.CPUPerOp.SpreadAuto() + " µs"
			}
			if len(c.KCPUPerOp) > 0 {
				kcpu = c.KCPUPerOp.SpreadAuto() + " µs"
			}
			del, lost := "—", "—"
			if a != "none" && a != "empty-raw-tp" && !c.NoCounts {
				del, lost = fnum(c.Delivered.Median(), "%.0f"), c.Lost.Spread("%.0f")
			}
			if len(c.AllPerOp) > 0 {
				del += fmt.Sprintf(" (all kinds: %s per op)", auto(c.AllPerOp.Median()))
			}
			p("| %s | %s %s | %s | %s | %s | %s | %s | %s |\n", a, wall.SpreadAuto(), unit, ov, cpu, kcpu, del, lost, fnum(c.Truth.Median(), "%.0f"))
		}
		pg, au, bt := r.get(w, "podguard"), r.get(w, "auditd"), r.get(w, "bpftrace")
		auc := au.CPUPerOp.Median() + au.KCPUPerOp.Median()
		if len(au.NsPerOp) == 0 && len(bt.NsPerOp) == 0 {
			p("\n")
			continue
		}
		p("\nRatios (podguard ÷ peer): agent CPU per op vs auditd+kauditd %s, vs auditd alone %s, vs bpftrace %s; wall time vs auditd %s, vs bpftrace %s.\n\n",
			ratio(pg.CPUPerOp.Median(), auc), ratio(pg.CPUPerOp.Median(), au.CPUPerOp.Median()), ratio(pg.CPUPerOp.Median(), bt.CPUPerOp.Median()),
			ratio(pg.NsPerOp.Median(), au.NsPerOp.Median()), ratio(pg.NsPerOp.Median(), bt.NsPerOp.Median()))
	}
	if len(r.HWMStorm) > 0 {
		p("podguard memory: startup peak VmHWM %s MiB (once ready; the harness then resets the peak through /proc/<pid>/clear_refs); idle VmRSS %s MiB (VmHWM since ready %s MiB); after an exec storm VmRSS %s MiB, VmHWM since ready %s MiB, of which anonymous %s MiB and file-backed %s MiB (the binary and the ring buffer's mapping, see below).\n\n",
			fnum(r.HWMStartup.Median()/1024, "%.1f"), fnum(r.RSSIdle.Median()/1024, "%.1f"), fnum(r.HWMIdle.Median()/1024, "%.1f"), r.RSSStorm.scale(1.0/1024).Spread("%.1f"), r.HWMStorm.scale(1.0/1024).Spread("%.1f"),
			r.AnonStorm.scale(1.0/1024).Spread("%.1f"), r.FileStorm.scale(1.0/1024).Spread("%.1f"))
		if len(r.Smaps) > 0 {
			p("Largest resident mappings after the last exec storm (/proc/<pid>/smaps): %s.\n\n", strings.Join(r.Smaps, ", "))
		}
	}
}

func (s Sample) scale(f float64) Sample {
	out := make(Sample, len(s))
	for i, v := range s {
		out[i] = v * f
	}
	return out
}

func (r *Report) ladder(p func(string, ...any)) {
	if len(r.Ladder) == 0 {
		return
	}
	p("## Loss ladder: open storm (0%% matching, %s: passed by podguard's kernel filter, so each open reaches rule evaluation), rate doubled until events are lost\n\n", passPath)
	p("Each step is a fresh agent and a paced run of about 2 s (two threads from 250K/s). When the workload cannot reach a paced rate under the agent, one last run goes as fast as two threads can (\"max\"). podguard's loss is its drop counters (ring buffer reservation failures; the rules run on the reader, with no queue between) plus events missing from its delivered count, from `podguard status --json`; auditd's is `auditctl -s` lost plus records missing from its log; bpftrace's is its \"Lost N events\" plus lines missing from its output. The last row is podguard alone on a storm of kill(self, 0) (podguard-tamper watches kill; no rule matches): a syscall far cheaper than open+close, so the workload climbs to podguard's own limit; it starts at 125K/s.\n\n")
	p("| agent | highest zero-loss rate, and loss at twice it | steps (target → achieved: lost/ops, agent CPU per event) |\n| --- | --- | --- |\n")
	for _, a := range []string{"auditd", "bpftrace", "podguard", ladderKill} {
		steps := r.Ladder[a]
		if len(steps) == 0 {
			continue
		}
		best, next := zeroLoss(steps)
		var ss []string
		for _, s := range steps {
			target := fnum(s.Target/1000, "%.0fK")
			if s.Target == 0 {
				target = "max"
			}
			ss = append(ss, fmt.Sprintf("%s→%s (%d thr): %d/%d, %.2f µs", target, fnum(s.Achieved/1000, "%.0fK"), s.Threads, max(s.Lost, s.Missing), s.Truth, s.AgentCPUPerOpUs))
		}
		p("| %s | %s | %s |\n", a, ladderWords(best, next), strings.Join(ss, "; "))
	}
	p("\n")
}

func (r *Report) latency(p func(string, ...any)) {
	if len(r.LatencyUs) > 0 {
		p("## Event delivery latency (podguard)\n\n")
		p("From the kernel's timestamp of the syscall (the event's `time`) to the moment a reader following the events file with inotify reads the line (CLOCK_REALTIME). Triggers are reads of /etc/shadow and /root/.ssh/id_rsa, each the first of its fold window, from 12 containers of one pod.\n\n")
		p("| condition | n | p50 | p99 | max |\n| --- | --- | --- | --- | --- |\n")
		for _, row := range []struct {
			name string
			s    Sample
		}{{"idle node", r.LatencyUs}, {"200K opens/s in another container of the pod (a path the kernel filter passes to rule evaluation)", r.LatencyLoadUs}} {
			p("| %s | %d | %s µs | %s µs | %s µs |\n", row.name, len(row.s), fnum(row.s.Median(), "%.0f"), fnum(row.s.Quantile(0.99), "%.0f"), fnum(row.s.Max(), "%.0f"))
		}
		p("\n")
	}
	if len(r.Kill) > 0 {
		p("## In-kernel kill (container-drift → terminate)\n\n")
		p("A copy of busybox written into the container (/tmp/bb) is executed as `bb touch <host marker>`; the marker path is on the host, so it exists only if the binary ran.\n\n| run | SIGKILL | killed_in_kernel | marker written | exec syscall → parent reaped | fork → reaped |\n| --- | --- | --- | --- | --- | --- |\n")
		for i, k := range r.Kill {
			p("| %d | %v | %v | %v | %v | %v |\n", i+1, k.Killed, k.KilledInKernel, k.MarkerWritten, k.ExecToReaped.Round(time.Microsecond), k.ForkToReaped.Round(time.Microsecond))
		}
		p("\n")
	}
	if len(r.IsolationUs) > 0 {
		p("## Isolation (shadow-file-read → isolate)\n\n")
		p("The pod sends 20K UDP datagrams/s to the node's gateway address; 300 ms in, it reads /etc/shadow. A host socket on the gateway stamps each datagram with its kernel receive time (SO_TIMESTAMPNS). Isolation latency is the event's `mitigation.applied_at` minus its `time`; after each run `podguard release` lifts the isolation.\n\n")
		p("| n | isolation p50 | p99 | max | datagrams received between the syscall and applied_at (median) | received after applied_at (max) | sent / received per run (median) |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		p("| %d | %s ms | %s ms | %s ms | %s | %s | %s / %s |\n\n", len(r.IsolationUs), fnum(r.IsolationUs.Median()/1000, "%.2f"), fnum(r.IsolationUs.Quantile(0.99)/1000, "%.2f"),
			fnum(r.IsolationUs.Max()/1000, "%.2f"), fnum(r.InWindow.Median(), "%.0f"), fnum(r.Leaked.Max(), "%.0f"), fnum(r.FloodSent.Median(), "%.0f"), fnum(r.FloodRecv.Median(), "%.0f"))
	}
}

func (r *Report) profiles(p func(string, ...any)) {
	if len(r.Profiles) == 0 {
		return
	}
	p("## Where podguard spends its CPU (perf)\n\n")
	p("`perf record -F 1999 -g -p <podguard>` on a podguard built without `-s -w` (same code), during each storm; `perf report --children` for the stages, `--no-children --sort symbol` (symbols over 1.5%%) for self time.\n\n")
	for _, pr := range r.Profiles {
		p("%s (%s). Inclusive time of the pipeline's stages:\n\n```\n%s\n```\n\nSelf time, top symbols (in this VM perf samples with a software clock, so time in the scheduler shows as finish_task_switch):\n\n```\n%s\n```\n\n",
			pr.Workload, pr.Samples, strings.Join(pr.Stages, "\n"), strings.Join(pr.Top, "\n"))
	}
}

func (r *Report) engine(p func(string, ...any)) {
	if len(r.Engine) == 0 {
		return
	}
	p("## Rule evaluation alone (engine.Handle, default ruleset)\n\n")
	p("In-process micro-benchmarks of the engine step only (no kernel, ring buffer, decode, queue or output): `go test -run '^$' -bench Engine -benchmem ./test/bench/`. The last column is the ceiling this step alone puts on one core.\n\n| event | ns per event | allocations | bytes | events/s on one core |\n| --- | --- | --- | --- | --- |\n")
	for _, e := range r.Engine {
		p("| %s | %.0f | %d | %d | %s |\n", e.Name, e.NsPerOp, e.AllocsPerOp, e.BytesPerOp, fnum(1e9/e.NsPerOp/1000, "%.0fK"))
	}
	p("\n")
}

func (r *Report) method(p func(string, ...any)) {
	p(`## Method

- Node: the private containerd + CRI + CNI node of package test/node (busybox image, kubelet-style cgroups).
- Workloads are the test binary run again as a child that is born in the container's cgroup (clone3 CLONE_INTO_CGROUP), chrooted into the container's root (/proc/<pid>/root) and, for the connect storm and the flood, in the pod's network namespace. Every agent sees the container's cgroup, files and addresses. The child counts its operations and times them itself.
- Agents, each started fresh for each run and stopped after it:
  - **none**: baseline.
  - **empty-raw-tp**: a two-instruction BPF program (r0 = 0; exit) on the raw tracepoint raw_syscalls:sys_enter for every task, loaded with cilium/ebpf — the floor of any per-syscall hook.
  - **auditd**: Debian's auditd (ENRICHED log format, flush INCREMENTAL_ASYNC, backlog 8192) with a private config and log, rules ` + "`-a always,exit -F arch=b64 -S execve,execveat|open,openat|connect -F auid=4242`" + `; every workload child sets its audit login uid to 4242, so auditd audits only the workload, as podguard and bpftrace watch only its cgroup. On stop the rules are deleted and the kernel's audit settings (enabled, backlog, failure, rate) are put back.
  - **bpftrace**: ` + "`tracepoint:sched:sched_process_exec`, `syscalls:sys_enter_openat`, `sys_enter_open`, `sys_enter_connect`" + `, each filtered in the kernel to the container's cgroup id and printing one line per event to a file (` + "`bpftrace -o`" + `).
  - **podguard**: the binary built like ` + "`make build`" + `, the shipped default ruleset (every managed rule, log) for every pod, plus two rulesets for the kill and isolation pods only.
- Agent CPU is /proc/<pid>/stat utime+stime (10 ms ticks) from the start of the workload until the agent has drained (its CPU and counters unchanged for 400 ms).
- Once auditing has been enabled in a boot (auditd's run here, or any earlier one), Linux gives every new task an audit context, so every syscall takes audit's entry/exit path even after auditd stops and auditing is disabled (audit_ever_enabled; only a reboot clears it). Every agent's runs, "none" included, carry that cost alike.
- The exec storm runs /bin/true (busybox, static) from the image by fork+exec+wait, one at a time. Each open is open+close (two syscalls). The connect storm reconnects one UDP socket to 127.0.0.1:9 (no packet is sent).
- podguard's kernel open filter drops, before any copy to userspace, reads whose path and basename match no prefix the active rules declare: in the "0% matching" open storm it delivers no event, by design. The storm on a path the filter passes but no rule matches shows the cost of an open that reaches rule evaluation; the loss ladder uses that path.
`)
}

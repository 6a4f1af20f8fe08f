package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podguard/podguard/test/node"
	"github.com/podguard/podguard/test/testbin"
)

// Target is a container the workloads run in.
type Target struct {
	Pod    *node.Pod
	Name   string // container name
	Root   string // /proc/<pid>/root of the container's init
	CgPath string // cgroup v2 directory
	CgID   uint64
	NetNS  string
}

func newTarget(p *node.Pod, container string) Target {
	pid := p.ContainerPID(container)
	return Target{Pod: p, Name: container, Root: fmt.Sprintf("/proc/%d/root", pid),
		CgPath: p.CgroupPath(container), CgID: p.CgroupID(container), NetNS: p.NetNS()}
}

// Run runs a workload child in the target: born in its cgroup, chrooted
// into its root (and in the pod's netns when s.NetNS is set by the caller).
func (tg Target) Run(s Spec) (Result, error) {
	var res Result
	if s.Root == "" {
		s.Root = tg.Root
	}
	js, err := json.Marshal(s)
	if err != nil {
		return res, err
	}
	cg, err := os.Open(tg.CgPath)
	if err != nil {
		return res, err
	}
	defer cg.Close()
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if err := startWithLoginUID(cmd); err != nil {
		return res, fmt.Errorf("workload %s: %w", s.Kind, err)
	}
	if err := cmd.Wait(); err != nil {
		return res, fmt.Errorf("workload %s: %w: %s", s.Kind, err, stderr.String())
	}
	out := stdout.Bytes()
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("workload %s output %q: %w", s.Kind, out, err)
	}
	return res, nil
}

// startWithLoginUID starts cmd from a thread whose audit login uid is
// benchLoginUID, so the child and everything it forks inherit it (the
// login uid is per task and copied at fork; only the task itself may
// write its /proc entry). The thread is never unlocked: it ends with its
// goroutine instead of carrying the login uid into other work.
func startWithLoginUID(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := os.WriteFile("/proc/thread-self/loginuid", []byte(fmt.Sprint(benchLoginUID)), 0); err != nil {
			errc <- fmt.Errorf("set loginuid: %w", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// cpuOf sums the CPU time of pids (missing ones count 0).
func cpuOf(pids []int) []time.Duration {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		out[i], _ = procCPU(pid)
	}
	return out
}

// drain waits until the agent has stopped working through a backlog: its
// CPU time stays unchanged for settle. It does not ask the agent anything
// (a status request would cost the agent CPU).
func drain(a Agent, kind string, settle, limit time.Duration) {
	take := func() time.Duration {
		var s time.Duration
		for _, c := range cpuOf(a.PIDs()) {
			s += c
		}
		return s
	}
	deadline := time.Now().Add(limit)
	last, since := take(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		s := take()
		if s != last {
			last, since = s, time.Now()
			continue
		}
		if time.Since(since) >= settle {
			return
		}
	}
}

// Cell is the measurements of one workload with one agent.
type Cell struct {
	NsPerOp   Sample // workload wall time per operation
	Elapsed   Sample // workload wall time, s
	CPUPerOp  Sample // agent process CPU per operation, µs
	KCPUPerOp Sample // kernel helper thread (kauditd) CPU per operation, µs
	Delivered Sample // events the agent reports for the workload's kind
	Lost      Sample // events the agent reports lost
	Truth     Sample // operations the workload did
	RateK     Sample // achieved operations per second, thousands
	AllPerOp  Sample // podguard: kernel events of every kind per operation
	Errors    int64
	Note      string
	NoCounts  bool // the agent's event counts do not apply (mixed workload)
	lastOps   float64
}

func (c *Cell) add(res Result, cpu []time.Duration, delivered, lost uint64) {
	ops := float64(res.Ops)
	c.Truth = append(c.Truth, ops)
	c.Elapsed = append(c.Elapsed, res.Elapsed().Seconds())
	c.NsPerOp = append(c.NsPerOp, float64(res.Elapsed().Nanoseconds())/ops)
	c.RateK = append(c.RateK, ops/res.Elapsed().Seconds()/1000)
	if len(cpu) > 0 {
		c.CPUPerOp = append(c.CPUPerOp, float64(cpu[0].Microseconds())/ops)
	}
	if len(cpu) > 1 {
		c.KCPUPerOp = append(c.KCPUPerOp, float64(cpu[1].Microseconds())/ops)
	}
	c.Delivered = append(c.Delivered, float64(delivered))
	c.Lost = append(c.Lost, float64(lost))
	c.Errors += res.Errors
}

// Once runs the workload once under the agent (started fresh, stopped
// after) and adds the measurements to c.
func Once(tb testing.TB, a Agent, tg Target, kind string, s Spec, c *Cell, after func(Agent)) Result {
	tb.Helper()
	return OnceHooks(tb, a, tg, kind, s, c, nil, after)
}

// OnceHooks is Once with a hook called after the agent started, before
// the workload; after is called once the agent has drained.
func OnceHooks(tb testing.TB, a Agent, tg Target, kind string, s Spec, c *Cell, before, after func(Agent)) Result {
	tb.Helper()
	if err := a.Start(tg.CgID); err != nil {
		tb.Fatalf("start %s: %v", a.Name(), err)
	}
	defer func() {
		if err := a.Stop(); err != nil {
			tb.Errorf("stop %s: %v", a.Name(), err)
		}
	}()
	pids := a.PIDs()
	d0, l0, _ := a.Counts(kind)
	pg, isPG := a.(*Podguard)
	var all0, allLost0 uint64
	if isPG {
		all0, allLost0, _ = pg.Counts("all")
	}
	if before != nil {
		before(a)
	}
	c0 := cpuOf(pids)
	res, err := tg.Run(s)
	if err != nil {
		tb.Fatalf("%s under %s: %v", kind, a.Name(), err)
	}
	drain(a, kind, 400*time.Millisecond, 60*time.Second)
	if d, ok := a.(interface{ Drain(time.Duration) }); ok {
		d.Drain(60 * time.Second)
	}
	c1 := cpuOf(pids)
	cpu := make([]time.Duration, len(pids))
	for i := range pids {
		cpu[i] = c1[i] - c0[i]
	}
	c.lastOps = float64(res.Ops)
	if isPG {
		all1, allLost1, _ := pg.Counts("all")
		c.AllPerOp = append(c.AllPerOp, float64(all1-all0+allLost1-allLost0)/float64(res.Ops))
	}
	if after != nil {
		after(a)
	}
	var d1, l1 uint64
	if _, ok := a.(*Bpftrace); ok {
		a.Stop()
		d1, l1, err = a.Counts(kind)
		d0, l0 = 0, 0
	} else {
		d1, l1, err = a.Counts(kind)
	}
	if err != nil {
		tb.Errorf("%s counts: %v", a.Name(), err)
	}
	c.add(res, cpu, d1-d0, l1-l0)
	tb.Logf("%-13s %-8s ops=%d wall=%v (%.0f ns/op) cpu=%v delivered=%d lost=%d errors=%d",
		a.Name(), kind, res.Ops, res.Elapsed().Round(time.Millisecond), float64(res.Elapsed().Nanoseconds())/float64(res.Ops), cpu, d1-d0, l1-l0, res.Errors)
	return res
}

// machine describes the host for the report.
func machine() string {
	var model string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	var mem string
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		if len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf("%.1f GiB", kb/1024/1024)
		}
	}
	var uts syscall.Utsname
	syscall.Uname(&uts)
	rel := func(a [65]int8) string {
		var b []byte
		for _, c := range a {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		return string(b)
	}
	ncpu := 0
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		for _, r := range strings.Split(strings.TrimSpace(string(b)), ",") {
			lo, hi, ok := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			z := a
			if ok {
				z, _ = strconv.Atoi(hi)
			}
			ncpu += z - a + 1
		}
	}
	return fmt.Sprintf("%s, %d cores, %s memory; Linux %s", model, ncpu, mem, rel(uts.Release))
}

func toolVersion(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "unavailable"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

// buildPodguard builds the daemon the way `make build` does.
func buildPodguard() (string, error) {
	return testbin.Binary(testbin.Podguard, testbin.Trimpath(), testbin.LDFlags("-s -w"))
}

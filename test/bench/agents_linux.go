package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podguard/podguard/daemon/api"
)

// Agent is a security agent under test.
type Agent interface {
	Name() string
	// Start starts the agent for the watched containers (cgroup v2 ids)
	// and returns when it is ready to see events.
	Start(cgroupIDs ...uint64) error
	Stop() error
	// PIDs are the processes whose CPU time is the agent's cost.
	PIDs() []int
	// Counts are the events of kind ("exec", "open", "connect") the agent
	// delivered and lost so far (cumulative since Start).
	Counts(kind string) (delivered, lost uint64, err error)
}

// none is the baseline: no agent.
type none struct{}

func (none) Name() string                          { return "none" }
func (none) Start(...uint64) error                 { return nil }
func (none) Stop() error                           { return nil }
func (none) PIDs() []int                           { return nil }
func (none) Counts(string) (uint64, uint64, error) { return 0, 0, nil }

// procCPU is the user+system CPU time of pid and its threads, dead ones
// included (/proc/<pid>/stat utime+stime, in clock ticks of 10 ms).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// procMem returns VmRSS and VmHWM of pid in KiB.
func procMem(pid int) (rss, hwm uint64, err error) {
	m, err := procMemAll(pid)
	return m["VmRSS"], m["VmHWM"], err
}

// procMemAll returns the Vm* and Rss* lines of /proc/<pid>/status in KiB.
func procMemAll(pid int) (map[string]uint64, error) {
	m := map[string]uint64{}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || !(strings.HasPrefix(f[0], "Vm") || strings.HasPrefix(f[0], "Rss")) {
			continue
		}
		v, _ := strconv.ParseUint(f[1], 10, 64)
		m[strings.TrimSuffix(f[0], ":")] = v
	}
	return m, nil
}

// pidOfComm finds a process by its comm (e.g. the kauditd kernel thread).
func pidOfComm(comm string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(b)) == comm {
			return pid
		}
	}
	return 0
}

func stopCmd(cmd *exec.Cmd, sig syscall.Signal, within time.Duration) error {
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
			return nil
		}
		return err
	case <-time.After(within):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within %v", cmd.Path, within)
	}
}

// Podguard is the daemon under test with the default ruleset (every
// managed rule, log) plus the harness's own rulesets for labelled pods.
type Podguard struct {
	Bin, Dir string
	// Label names the agent in the report ("podguard" when empty): a
	// baseline build runs beside the one under test as "podguard (before)".
	Label      string
	Containerd string            // containerd socket of the test node
	Rules      map[string]string // extra rulesets: file name → TOML
	cmd        *exec.Cmd
	log        bytes.Buffer
	// StartupHWM is the last start's VmHWM (KiB) once it was ready: the
	// peak of loading. Start then resets the peak (clear_refs), so a later
	// VmHWM is the peak since podguard was ready.
	StartupHWM uint64
}

func (p *Podguard) Name() string {
	if p.Label != "" {
		return p.Label
	}
	return "podguard"
}
func (p *Podguard) config() string     { return filepath.Join(p.Dir, "config.toml") }
func (p *Podguard) EventsFile() string { return filepath.Join(p.Dir, "events.jsonl") }

func (p *Podguard) Start(cgs ...uint64) error {
	rules := filepath.Join(p.Dir, "rules.d")
	os.RemoveAll(p.Dir)
	if err := os.MkdirAll(rules, 0o700); err != nil {
		return err
	}
	def, err := os.ReadFile(filepath.Join(repoRoot(), "rules.d", "default.toml"))
	if err != nil {
		return err
	}
	files := map[string]string{"default.toml": string(def)}
	for k, v := range p.Rules {
		files[k] = v
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(rules, name), []byte(src), 0o600); err != nil {
			return err
		}
	}
	cfg := fmt.Sprintf("node = \"bench\"\nrules_dir = %q\nstate_dir = %q\n[containerd]\naddress = %q\nnamespace = \"k8s.io\"\n[api]\nsocket = %q\n[events]\nfile = %q\n",
		rules, filepath.Join(p.Dir, "state"), p.Containerd, filepath.Join(p.Dir, "run", "podguard.sock"), p.EventsFile())
	if err := os.WriteFile(p.config(), []byte(cfg), 0o600); err != nil {
		return err
	}
	p.log.Reset()
	p.cmd = exec.Command(p.Bin, "run", "--config", p.config())
	p.cmd.Stderr = &p.log
	if err := p.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := p.Status()
		if err == nil && st.Containerd.Connected && len(st.Probes.Attached) > 0 && st.Probes.Watched >= len(cgs) {
			time.Sleep(200 * time.Millisecond) // let the workload cache settle
			pid := p.cmd.Process.Pid
			_, p.StartupHWM, _ = procMem(pid)
			// "5" resets VmHWM to the current RSS (proc(5), Linux 4.0+).
			return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("podguard not ready within 30s (status err %v); log:\n%s", err, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *Podguard) Stop() error {
	err := stopCmd(p.cmd, syscall.SIGTERM, 15*time.Second)
	p.cmd = nil
	return err
}

func (p *Podguard) PIDs() []int {
	if p.cmd == nil {
		return nil
	}
	return []int{p.cmd.Process.Pid}
}

// WaitWatched waits until podguard watches at least n cgroups.
func (p *Podguard) WaitWatched(n int) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := p.Status()
		if err == nil && st.Probes.Watched >= n {
			time.Sleep(100 * time.Millisecond)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("podguard does not watch %d cgroups within 20s (status err %v; watched %d, containerd %+v)", n, err, st.Probes.Watched, st.Containerd)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Status is `podguard status --json`.
func (p *Podguard) Status() (api.Status, error) {
	var st api.Status
	out, err := exec.Command(p.Bin, "status", "--json", "--config", p.config()).Output()
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(out, &st)
}

// CLI runs a podguard command against this instance's config.
func (p *Podguard) CLI(args ...string) (string, error) {
	out, err := exec.Command(p.Bin, append([]string{args[0], "--config", p.config()}, args[1:]...)...).CombinedOutput()
	return string(out), err
}

func (p *Podguard) Counts(kind string) (uint64, uint64, error) {
	st, err := p.Status()
	if err != nil {
		return 0, 0, err
	}
	if kind == "all" {
		var del, lost uint64
		for _, n := range st.Probes.Events {
			del += n
		}
		for _, d := range st.Probes.Drops {
			lost += d.Ring + d.Queue
		}
		return del, lost, nil
	}
	d := st.Probes.Drops[kind]
	return st.Probes.Events[kind], d.Ring + d.Queue, nil
}

// Auditd is Debian's auditd with rules on the same syscalls, selecting the
// workload by its audit login uid. It runs with a private config directory
// and log; Stop removes its rules and puts the kernel's audit settings back.
type Auditd struct {
	Dir string
	// All audits every process (the mixed workload's processes come from
	// containerd and carry no login uid); otherwise only the workload's.
	All   bool
	cmd   *exec.Cmd
	saved map[string]string
	off   int64
}

func (a *Auditd) Name() string { return "auditd" }

const auditKey = "pgbench"

func auditStatus() (map[string]string, error) {
	out, err := exec.Command("auditctl", "-s").Output()
	if err != nil {
		return nil, fmt.Errorf("auditctl -s: %w", err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			m[f[0]] = f[1]
		}
	}
	return m, nil
}

func auditctl(args ...string) error {
	if out, err := exec.Command("auditctl", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("auditctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (a *Auditd) Start(...uint64) error {
	st, err := auditStatus()
	if err != nil {
		return err
	}
	if st["pid"] != "0" {
		return fmt.Errorf("an audit daemon already runs (pid %s): not touching it", st["pid"])
	}
	if out, _ := exec.Command("auditctl", "-l").Output(); !strings.Contains(string(out), "No rules") {
		return fmt.Errorf("audit rules already loaded: not touching them:\n%s", out)
	}
	a.saved = st
	os.RemoveAll(a.Dir)
	if err := os.MkdirAll(filepath.Join(a.Dir, "plugins.d"), 0o750); err != nil {
		return err
	}
	// Debian's defaults, with a private log that never rotates.
	conf := fmt.Sprintf(`local_events = yes
write_logs = yes
log_file = %s
log_group = root
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 4096
num_logs = 2
priority_boost = 4
name_format = NONE
max_log_file_action = IGNORE
space_left = 75
space_left_action = IGNORE
admin_space_left = 50
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
use_libwrap = no
tcp_listen_queue = 5
tcp_max_per_addr = 1
tcp_client_max_idle = 0
transport = TCP
distribute_network = no
q_depth = 2000
overflow_action = SYSLOG
max_restarts = 10
plugin_dir = %s
end_of_event_timeout = 2
`, filepath.Join(a.Dir, "audit.log"), filepath.Join(a.Dir, "plugins.d"))
	if err := os.WriteFile(filepath.Join(a.Dir, "auditd.conf"), []byte(conf), 0o640); err != nil {
		return err
	}
	a.cmd = exec.Command("auditd", "-n", "-c", a.Dir)
	var log bytes.Buffer
	a.cmd.Stderr = &log
	if err := a.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, err := auditStatus(); err == nil && st["pid"] == strconv.Itoa(a.cmd.Process.Pid) {
			break
		}
		if time.Now().After(deadline) {
			a.Stop()
			return fmt.Errorf("auditd did not register within 10s: %s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Debian's audit.rules: -b 8192, -f 1; then the same syscalls as the others.
	sel := []string{"-F", fmt.Sprint("auid=", benchLoginUID)}
	if a.All {
		sel = nil
	}
	rule := func(syscalls string) []string {
		return append(append([]string{"-a", "always,exit", "-F", "arch=b64", "-S", syscalls}, sel...), "-k", auditKey)
	}
	for _, args := range [][]string{
		{"-b", "8192"}, {"-f", "1"}, {"-e", "1"},
		rule("execve,execveat"), rule("open,openat"), rule("connect"),
	} {
		if err := auditctl(args...); err != nil {
			a.Stop()
			return err
		}
	}
	return nil
}

func (a *Auditd) Stop() error {
	var errs []string
	if err := auditctl("-D"); err != nil {
		errs = append(errs, err.Error())
	}
	if a.saved != nil {
		for _, args := range [][]string{{"-e", a.saved["enabled"]}, {"-b", a.saved["backlog_limit"]}, {"-f", a.saved["failure"]}, {"-r", a.saved["rate_limit"]}} {
			if err := auditctl(args...); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if err := stopCmd(a.cmd, syscall.SIGTERM, 10*time.Second); err != nil {
		errs = append(errs, err.Error())
	}
	a.cmd = nil
	if a.saved != nil {
		// auditd enables auditing on exit handling; put the flag back once more.
		auditctl("-e", a.saved["enabled"])
		if a.saved["lost"] == "0" {
			auditctl("--reset-lost") // the lost counter was clean when we came
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("stop auditd: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (a *Auditd) PIDs() []int {
	if a.cmd == nil {
		return nil
	}
	pids := []int{a.cmd.Process.Pid}
	if k := pidOfComm("kauditd"); k != 0 {
		pids = append(pids, k)
	}
	return pids
}

// Drain waits until the kernel's audit backlog is empty and the log has
// stopped growing for a second: auditd writes asynchronously.
func (a *Auditd) Drain(limit time.Duration) {
	deadline := time.Now().Add(limit)
	var last int64 = -1
	since := time.Now()
	for time.Now().Before(deadline) {
		st, _ := auditStatus()
		fi, err := os.Stat(filepath.Join(a.Dir, "audit.log"))
		var size int64
		if err == nil {
			size = fi.Size()
		}
		if size != last || st["backlog"] != "0" {
			last, since = size, time.Now()
		} else if time.Since(since) >= time.Second {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var auditSyscalls = map[string][]string{"exec": {"59", "322"}, "open": {"2", "257"}, "connect": {"42"}}

func (a *Auditd) Counts(kind string) (uint64, uint64, error) {
	st, err := auditStatus()
	if err != nil {
		return 0, 0, err
	}
	lost, _ := strconv.ParseUint(st["lost"], 10, 64)
	base, _ := strconv.ParseUint(a.saved["lost"], 10, 64)
	f, err := os.Open(filepath.Join(a.Dir, "audit.log"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var n uint64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	want := map[string]bool{}
	for _, s := range auditSyscalls[kind] {
		want["syscall="+s] = true
	}
	for sc.Scan() {
		l := sc.Bytes()
		if !bytes.HasPrefix(l, []byte("type=SYSCALL ")) || !bytes.Contains(l, []byte(`key="`+auditKey+`"`)) {
			continue
		}
		for _, fld := range bytes.Fields(l) {
			if want[string(fld)] {
				n++
				break
			}
		}
	}
	return n, lost - base, sc.Err()
}

// Bpftrace runs a bpftrace script on sched_process_exec and
// syscalls:sys_enter_{openat,open,connect}, filtered to the watched
// container's cgroup in the kernel, printing one line per event to a file.
type Bpftrace struct {
	Dir string
	cmd *exec.Cmd
}

func (b *Bpftrace) Name() string { return "bpftrace" }
func (b *Bpftrace) out() string  { return filepath.Join(b.Dir, "bpftrace.out") }

func (b *Bpftrace) Start(cgs ...uint64) error {
	os.RemoveAll(b.Dir)
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return err
	}
	if err := ensureTracefs(); err != nil {
		return err
	}
	var conds []string
	for _, cg := range cgs {
		conds = append(conds, fmt.Sprintf("cgroup == %d", cg))
	}
	script := fmt.Sprintf(`tracepoint:sched:sched_process_exec /%[1]s/ { printf("exec %%llu %%d %%s\n", nsecs, pid, str(args->filename)); }
tracepoint:syscalls:sys_enter_openat /%[1]s/ { printf("open %%llu %%d %%s\n", nsecs, pid, str(args->filename)); }
tracepoint:syscalls:sys_enter_open /%[1]s/ { printf("open %%llu %%d %%s\n", nsecs, pid, str(args->filename)); }
tracepoint:syscalls:sys_enter_connect /%[1]s/ { printf("connect %%llu %%d\n", nsecs, pid); }
`, strings.Join(conds, " || "))
	b.cmd = exec.Command("bpftrace", "-o", b.out(), "-e", script)
	var log bytes.Buffer
	b.cmd.Stderr = &log
	if err := b.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if out, _ := os.ReadFile(b.out()); bytes.Contains(out, []byte("Attaching")) {
			time.Sleep(200 * time.Millisecond)
			return nil
		}
		if time.Now().After(deadline) || b.cmd.ProcessState != nil {
			b.Stop()
			return fmt.Errorf("bpftrace did not attach: %s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *Bpftrace) Stop() error {
	err := stopCmd(b.cmd, syscall.SIGINT, 20*time.Second)
	b.cmd = nil
	return err
}

func (b *Bpftrace) PIDs() []int {
	if b.cmd == nil {
		return nil
	}
	return []int{b.cmd.Process.Pid}
}

var lostRE = regexp.MustCompile(`Lost (\d+) events`)

// Counts reads the output file; it is complete only after Stop (bpftrace
// buffers), so the harness stops bpftrace before counting.
func (b *Bpftrace) Counts(kind string) (uint64, uint64, error) {
	f, err := os.Open(b.out())
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var n, lost uint64
	prefix := []byte(kind + " ")
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), prefix) {
			n++
		} else if m := lostRE.FindSubmatch(sc.Bytes()); m != nil {
			v, _ := strconv.ParseUint(string(m[1]), 10, 64)
			lost += v
		}
	}
	return n, lost, sc.Err()
}

var mountedTracefs bool

// ensureTracefs mounts tracefs for bpftrace if it is not mounted.
func ensureTracefs() error {
	if _, err := os.Stat("/sys/kernel/tracing/events"); err == nil {
		return nil
	}
	if err := syscall.Mount("none", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		return fmt.Errorf("mount tracefs: %w", err)
	}
	mountedTracefs = true
	return nil
}

// repoRoot is the module root (test/bench/../..).
func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// smapsTop sums the resident memory of pid by mapping name (anonymous
// mappings as "anonymous") and returns the largest, "N.N MiB name".
func smapsTop(pid, n int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil
	}
	by := map[string]uint64{}
	name := ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			name = "anonymous"
			if len(f) >= 6 {
				// The binary by segment: code (r-xp), read-only data
				// (r--p: tables, type and function metadata), data (rw-p).
				name = filepath.Base(f[5]) + " " + f[1]
				if strings.HasPrefix(f[5], "[") || strings.HasPrefix(f[5], "anon_inode:") {
					name = f[5]
				}
			}
		case len(f) >= 2 && f[0] == "Rss:":
			v, _ := strconv.ParseUint(f[1], 10, 64)
			by[name] += v
		}
	}
	type kv struct {
		k string
		v uint64
	}
	var all []kv
	for k, v := range by {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, fmt.Sprintf("%.1f MiB %s", float64(all[i].v)/1024, all[i].k))
	}
	return out
}

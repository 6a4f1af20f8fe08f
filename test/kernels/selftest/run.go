//go:build linux && amd64

package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/probes"
	"github.com/podguard/podguard/test/cgrouptest"
	"github.com/podguard/podguard/test/trigger"
)

// eventWait bounds how long a check waits for its event; qemu TCG guests
// are slow.
const eventWait = 30 * time.Second

func run(pid1 bool) error {
	var uts unix.Utsname
	unix.Uname(&uts)
	// a line of its own: the console may still hold firmware output
	fmt.Printf("\nkernel: %s %s\n", unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Version[:]))
	if b, err := os.ReadFile("/sys/kernel/debug/sched/preempt"); err == nil {
		fmt.Printf("preempt: %s\n", strings.TrimSpace(string(b))) // the mode in use is in parentheses
	}
	tmp := "/tmp"
	if !pid1 {
		dir, err := os.MkdirTemp("", "podguard-selftest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		tmp = dir
	}
	var lacks []string // required features the kernel does not offer
	feats := probes.ProbeFeatures()
	for _, f := range feats {
		state := "absent"
		if f.Present {
			state = "present"
		} else if f.Fallback == "" {
			lacks = append(lacks, f.Name)
		}
		fmt.Printf("feature %s: %s (%s)\n", f.Name, state, f.Detail)
	}
	if _, err := cgrouptest.Root(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	p, err := probes.Load(probes.Options{QueueLen: 1 << 14})
	if err != nil {
		if len(lacks) > 0 {
			return fmt.Errorf("load probes: %w (kernel lacks required: %s)", err, strings.Join(lacks, ", "))
		}
		return fmt.Errorf("load probes: %w", err)
	}
	defer func() {
		// markers around the detach: a guest that stalls after the last
		// check shows whether it was here (5.10 under TCG, kernels.md)
		fmt.Println("closing probes")
		start := time.Now()
		p.Close()
		fmt.Printf("probes closed in %v\n", time.Since(start).Round(time.Millisecond))
	}()
	fmt.Printf("CHECK load: ok (%d programs attached)\n", len(p.Attached()))
	fmt.Printf("syscall hook: %s\n", p.SyscallHook())
	c := newCollector(p)

	failed := 0
	check := func(name string, err error) {
		if err != nil {
			failed++
			fmt.Printf("CHECK %s: FAIL: %v\n", name, err)
		} else {
			fmt.Printf("CHECK %s: ok\n", name)
		}
	}
	check("hook set", hookSetCheck(p, feats))
	check("events", eventChecks(p, c, tmp, self, check))
	check("kills", killChecks(p, c, tmp, self, check))
	check("concurrent opens", stormCheck(p, c, tmp, self))
	check("open prefilter", openFilterCheck(p, c, tmp, self))
	printStats(p)
	if failed > 0 {
		return fmt.Errorf("%d checks failed", failed)
	}
	return nil
}

// setupGuest mounts what a bare initramfs lacks and brings lo up.
func setupGuest() error {
	mounts := []struct{ src, dir, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2"},
		{"bpf", "/sys/fs/bpf", "bpf"},
		{"debugfs", "/sys/kernel/debug", "debugfs"},
		{"tracefs", "/sys/kernel/tracing", "tracefs"},
	}
	for _, m := range mounts {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	if err := linkUp("lo"); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// cgroup is a fresh cgroup v2 directory for one check.
type cgroup struct{ *cgrouptest.Cgroup }

func newCgroup(name string) (*cgroup, error) {
	cg, err := cgrouptest.Make(name + "-")
	if err != nil {
		return nil, err
	}
	return &cgroup{cg}, nil
}

func (cg *cgroup) remove() {
	if err := cg.Remove(); err != nil {
		fmt.Printf("warning: %v\n", err)
	}
}

// start runs self with args in the cgroup and waits for it.
func (cg *cgroup) start(self string, args ...string) (int, *os.ProcessState, error) {
	cmd := cg.Command(self, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("start %v: %w", args, err)
	}
	pid := cmd.Process.Pid
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return pid, nil, err
	}
	return pid, cmd.ProcessState, nil
}

// closedPort returns a loopback TCP port nothing listens on.
func closedPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

func eventChecks(p *probes.Probes, c *collector, tmp, self string, check func(string, error)) error {
	cg, err := newCgroup("podguard-selftest-events")
	if err != nil {
		return err
	}
	defer cg.remove()
	if err := p.SetWatched(cg.ID, probes.AllKinds, 0); err != nil {
		return err
	}
	defer p.Unwatch(cg.ID)
	path := filepath.Join(tmp, "podguard-selftest-open")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		return err
	}
	port, err := closedPort()
	if err != nil {
		return err
	}
	args := []string{"open-read", path, trigger.Then, "tcp", "127.0.0.1", strconv.Itoa(port), "refused"}
	pid, st, err := cg.start(self, args...)
	if err != nil {
		return err
	}
	if !st.Success() {
		return fmt.Errorf("child: %v", st)
	}
	check("exec", c.waitFor(fmt.Sprintf("exec of %s by pid %d", self, pid), func(e *probes.Record) bool {
		return e.Kind == probes.KindExec && int(e.TGID) == pid && e.CgroupID == cg.ID &&
			e.Exe == self && e.Filename == self && slices.Equal(e.Args, append([]string{self}, args...))
	}))
	byLSM, by := reportedBy(p)
	check("open", c.waitFor("openat of "+path+" reported "+by+"file_open", func(e *probes.Record) bool {
		return e.Kind == probes.KindOpen && int(e.TGID) == pid && e.Path == path &&
			e.FileFlags&unix.O_ACCMODE == unix.O_RDONLY && e.ByLSM == byLSM
	}))
	loop := netip.MustParseAddr("127.0.0.1")
	check("connect", c.waitFor(fmt.Sprintf("connect to 127.0.0.1:%d reported %ssocket_connect", port, by), func(e *probes.Record) bool {
		return e.Kind == probes.KindConnect && int(e.TGID) == pid && e.Family == unix.AF_INET &&
			e.Addr == loop && int(e.Port) == port && e.ByLSM == byLSM
	}))
	check("exit", c.waitFor("exit 0 of the child", func(e *probes.Record) bool {
		return e.Kind == probes.KindExit && int(e.TGID) == pid && e.ExitCode == 0 && e.ExitSignal == 0
	}))
	return nil
}

func killChecks(p *probes.Probes, c *collector, tmp, self string, check func(string, error)) error {
	cg, err := newCgroup("podguard-selftest-kill")
	if err != nil {
		return err
	}
	defer cg.remove()
	// no kinds: a kill must be reported on its own
	if err := p.SetWatched(cg.ID, 0, probes.KillMemfdExec|probes.KillNamespace); err != nil {
		return err
	}
	defer p.Unwatch(cg.ID)
	check("kill memfd exec", armed(c, cg, self, tmp, "memfd-exec", func(e *probes.Record) bool {
		return e.Kind == probes.KindExec && e.Flags&probes.FlagMemfd != 0
	}))
	check("kill unshare", armed(c, cg, self, tmp, "unshare", func(e *probes.Record) bool {
		return e.Kind == probes.KindUnshare && e.NSFlags == unix.CLONE_NEWUTS
	}))
	return nil
}

// armed runs an action that writes a marker after its dangerous step and
// checks the kernel killed it first and reported the kill.
func armed(c *collector, cg *cgroup, self, tmp, action string, match func(*probes.Record) bool) error {
	marker := filepath.Join(tmp, action+".marker")
	pid, st, err := cg.start(self, action, marker)
	if err != nil {
		return err
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return fmt.Errorf("child ended with %v, want killed by SIGKILL", st)
	}
	if _, err := os.Stat(marker); err == nil {
		return errors.New("marker written: the child ran past the kill")
	}
	return c.waitFor(action+" killed", func(e *probes.Record) bool {
		return int(e.TGID) == pid && e.Killed() && match(e)
	})
}

// printStats reports what the probes delivered and lost, so a missing
// event can be told apart from a dropped one.
func printStats(p *probes.Probes) {
	st, err := p.Stats()
	if err != nil {
		fmt.Printf("stats: %v\n", err)
		return
	}
	var delivered, queue, ring uint64
	var lost []string
	for _, k := range st.Kinds {
		delivered += k.Delivered
		queue += k.QueueDrops
		ring += k.RingDrops
		if k.QueueDrops+k.RingDrops > 0 {
			lost = append(lost, fmt.Sprintf("%s:%d/%d", k.Kind, k.QueueDrops, k.RingDrops))
		}
	}
	fmt.Printf("stats: delivered %d, queue drops %d, ring drops %d, decode errors %d %v\n",
		delivered, queue, ring, st.DecodeErrors, lost)
	fmt.Printf("recursion misses: %s\n", recursionMisses())
}

// recursionMisses lists the loaded BPF programs the kernel skipped because
// one was already running on that CPU (bpf_prog_info.recursion_misses,
// 5.12+): events lost before podguard's own counters could see them.
func recursionMisses() string {
	var out []string
	for id := ebpf.ProgramID(0); ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			break
		}
		id = next
		prog, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		st, serr := prog.Stats()
		info, ierr := prog.Info()
		prog.Close()
		if serr == nil && ierr == nil && st.RecursionMisses > 0 {
			out = append(out, fmt.Sprintf("%s:%d", info.Name, st.RecursionMisses))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// stormOpens is how many opens stormCheck expects to see, each once.
const stormOpens = 500

// stormCheck runs the storm-open-threads action on existing files and checks that every one of its opens was
// reported exactly once, with its own path and syscall number, while
// sibling threads produced kill events concurrently.
func stormCheck(p *probes.Probes, c *collector, tmp, self string) error {
	cg, err := newCgroup("podguard-selftest-storm")
	if err != nil {
		return err
	}
	defer cg.remove()
	if err := p.SetWatched(cg.ID, probes.KindsOf(probes.KindOpen, probes.KindKill), 0); err != nil {
		return err
	}
	defer p.Unwatch(cg.ID)
	path := filepath.Join(tmp, "storm")
	// files that exist: their opens reach security_file_open (the LSM
	// set reports them there, the tracepoint set at exit)
	for i := 0; i < stormOpens; i++ {
		if err := os.WriteFile(fmt.Sprintf("%s.%d", path, i), nil, 0o644); err != nil {
			return err
		}
	}
	pid, st, err := cg.start(self, "storm-open-threads", path, strconv.Itoa(stormOpens))
	if err != nil {
		return err
	}
	if !st.Success() {
		return fmt.Errorf("child: %v", st)
	}
	// the child's exit comes after all its opens: wait until its last
	// open shows up, or the usual time
	last := fmt.Sprintf("%s.%d", path, stormOpens-1)
	c.waitFor("last storm open", func(e *probes.Record) bool { return int(e.TGID) == pid && e.Path == last })
	seen := map[string]int{}
	var kills, wrong, byLSM int
	var odd []string
	c.each(func(e *probes.Record) {
		if int(e.TGID) != pid {
			return
		}
		switch {
		case e.Kind == probes.KindOpen && e.Syscall == unix.SYS_OPENAT && strings.HasPrefix(e.Path, path+"."):
			seen[e.Path]++
			if e.ByLSM {
				byLSM++
			}
		case e.Kind == probes.KindKill && e.Syscall == unix.SYS_TGKILL && (e.Signal == 0 || e.Signal == uint32(unix.SIGURG)):
			kills++ // signal 0 from the storm threads, SIGURG from the Go runtime
		case e.Kind == probes.KindOpen && !strings.HasPrefix(e.Path, path+"."):
			// the Go runtime's own opens at start-up
		default:
			wrong++
			if len(odd) < 5 {
				odd = append(odd, fmt.Sprintf("%s sc=%d path=%q sig=%d", e.Kind, e.Syscall, e.Path, e.Signal))
			}
		}
	})
	var missing, dup int
	var gaps []string // runs of missing opens, first-last
	for i := 0; i < stormOpens; i++ {
		switch n := seen[fmt.Sprintf("%s.%d", path, i)]; {
		case n == 0:
			if missing++; i == 0 || seen[fmt.Sprintf("%s.%d", path, i-1)] != 0 {
				gaps = append(gaps, strconv.Itoa(i))
			} else {
				gaps[len(gaps)-1] = strings.Split(gaps[len(gaps)-1], "-")[0] + "-" + strconv.Itoa(i)
			}
		case n > 1:
			dup++
		}
	}
	fmt.Printf("storm: %d opens expected, %d missing %v, %d duplicated (%d by lsm), %d tgkill events, %d inconsistent %v\n",
		stormOpens, missing, gaps, dup, byLSM, kills, wrong, odd)
	if missing+dup+wrong > 0 {
		return fmt.Errorf("%d opens missing, %d duplicated, %d inconsistent events", missing, dup, wrong)
	}
	return nil
}

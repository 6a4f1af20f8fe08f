//go:build linux && amd64

package probes

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podguard/podguard/test/testbin"
)

// triggerBin is test/trigger's command built by TestMain; trigger386 the
// same for GOARCH=386 (ia32 syscalls).
var triggerBin, trigger386 string

func TestMain(m *testing.M) {
	code := func() int {
		// PODGUARD_TEST_PERF_BUFFER=1 runs every test with the perf buffer.
		perfMode = os.Getenv("PODGUARD_TEST_PERF_BUFFER") == "1"
		if os.Geteuid() == 0 {
			defer testbin.Cleanup()
			var err error
			if triggerBin, err = testbin.Binary(testbin.Trigger); err == nil {
				trigger386, err = testbin.Binary(testbin.Trigger, testbin.Arch("386"))
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		hadTracefs := tracefsMounted()
		code := m.Run()
		for _, r := range []*router{&shared, &sharedPerf, &sharedTp, &sharedPerfTp} {
			if r.p != nil {
				r.p.Close()
			}
		}
		if !hadTracefs && tracefsMounted() { // Load mounted it for the tracepoint hook
			unix.Unmount("/sys/kernel/tracing", 0)
		}
		return code
	}()
	os.Exit(code)
}

// tracefsMounted reports whether tracefs is mounted on /sys/kernel/tracing.
func tracefsMounted() bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == "/sys/kernel/tracing" && strings.Contains(line, " - tracefs ") {
			return true
		}
	}
	return false
}

func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: loads BPF programs and creates cgroups")
	}
}

// router fans the shared Probes' events out to tests by cgroup id.
type router struct {
	mu    sync.Mutex
	p     *Probes
	subs  map[uint64]chan *Event
	stray []*Event // events from cgroups no test subscribed
}

// shared serves the tests with the default transport (the ring buffer
// here), sharedPerf the same tests run by TestPerfBuffer with
// Options.ForcePerfBuffer.
var shared, sharedPerf router

// sharedTp (and sharedPerfTp, with the perf buffer too) is shared loaded
// with Options.ForceSyscallTracepoint, for TestSyscallTracepoint (tpMode
// set around its subtests).
var sharedTp, sharedPerfTp router

var tpMode bool

// perfMode makes sharedProbes hand out sharedPerf: set around
// TestPerfBuffer's subtests (tests in this package run one at a time), or
// for the whole run by PODGUARD_TEST_PERF_BUFFER=1.
var perfMode bool

// sharedProbes loads the probes once per transport for the package (host
// monitoring off).
func sharedProbes(tb testing.TB) *router {
	tb.Helper()
	needRoot(tb)
	r := &shared
	switch {
	case perfMode && tpMode:
		r = &sharedPerfTp
	case perfMode:
		r = &sharedPerf
	case tpMode:
		r = &sharedTp
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		p, err := Load(Options{QueueLen: 1 << 14, ForcePerfBuffer: perfMode, ForceSyscallTracepoint: tpMode})
		if err != nil {
			tb.Fatalf("load probes: %v", err)
		}
		r.p = p
		r.subs = map[uint64]chan *Event{}
		go r.run()
	}
	return r
}

func (r *router) run() {
	for ev := range r.p.Events() {
		r.mu.Lock()
		ch, ok := r.subs[ev.CgroupID]
		if !ok {
			r.stray = append(r.stray, ev)
		}
		r.mu.Unlock()
		if ok {
			select {
			case ch <- ev:
			default: // a test that stopped reading must not stall the others
			}
		}
	}
}

func (r *router) strays() []*Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Event(nil), r.stray...)
}

// testCgroup is a fresh cgroup v2 directory watched for one test.
type testCgroup struct {
	dir    string
	id     uint64
	fd     int
	events chan *Event
}

// cgroup2Root finds the cgroup v2 mount: /sys/fs/cgroup on a pure v2
// host, /sys/fs/cgroup/unified on a hybrid one.
func cgroup2Root(tb testing.TB) string {
	tb.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				return fields[4]
			}
		}
	}
	tb.Skip("no cgroup2 mount: the probes filter on cgroup v2 ids")
	return ""
}

// newCgroup creates a cgroup, registers it with the router and watches
// kinds/kill in the kernel. Cleanup unwatches and removes it.
func (r *router) newCgroup(tb testing.TB, kinds KindSet, kill KillSet) *testCgroup {
	tb.Helper()
	dir, err := os.MkdirTemp(cgroup2Root(tb), "podguard-probes-")
	if err != nil {
		tb.Fatalf("create cgroup: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		tb.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	cg := &testCgroup{dir: dir, id: st.Ino, fd: fd, events: make(chan *Event, 1<<14)}
	r.mu.Lock()
	r.subs[cg.id] = cg.events
	r.mu.Unlock()
	if err := r.p.SetWatched(cg.id, kinds, kill); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		r.p.Unwatch(cg.id)
		r.mu.Lock()
		delete(r.subs, cg.id)
		r.mu.Unlock()
		unix.Close(fd)
		removeCgroup(tb, dir)
	})
	return cg
}

func removeCgroup(tb testing.TB, dir string) {
	// kill leftovers (e.g. the tracee of a killed tracer); cgroup.kill
	// exists since Linux 5.14
	os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
	for i := 0; i < 50; i++ { // processes may still be exiting
		if err := unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Errorf("remove cgroup %s: still busy", dir)
}

// run starts cmd inside the cgroup (CLONE_INTO_CGROUP) and waits for it.
func (cg *testCgroup) run(tb testing.TB, cmd *exec.Cmd) *os.ProcessState {
	tb.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.fd}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		tb.Fatalf("run %v: %v", cmd.Args, err)
	}
	if len(out) > 0 {
		tb.Logf("%s: %s", filepath.Base(cmd.Path), out)
	}
	return cmd.ProcessState
}

// trigger runs the helper with an action inside the cgroup; it must succeed.
func (cg *testCgroup) trigger(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	cmd := exec.Command(triggerBin, args...)
	cmd.Dir = dir
	if st := cg.run(tb, cmd); !st.Success() {
		tb.Fatalf("trigger %v: %v", args, st)
	}
}

// waitFor returns the first event matching match; it fails the test when
// none arrives within 10 s (a deadline against hangs, not a timing check).
func (cg *testCgroup) waitFor(tb testing.TB, what string, match func(*Event) bool) *Event {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-cg.events:
			if match(ev) {
				return ev
			}
		case <-deadline:
			tb.Fatalf("no %s event arrived", what)
			return nil
		}
	}
}

func isKind(k Kind) func(*Event) bool { return func(e *Event) bool { return e.Kind == k } }

// killedBySIGKILL reports whether a process ended by SIGKILL.
func killedBySIGKILL(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

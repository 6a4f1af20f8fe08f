//go:build linux && amd64

package probes

import (
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

	"github.com/podguard/podguard/test/cgrouptest"
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
	subs  map[uint64]chan *Record
	stray []*Record // events from cgroups no test subscribed
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
		r.subs = map[uint64]chan *Record{}
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

func (r *router) strays() []*Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Record(nil), r.stray...)
}

// testCgroup is a fresh cgroup v2 directory watched for one test.
type testCgroup struct {
	*cgrouptest.Cgroup
	events chan *Record
}

// newCgroup creates a cgroup, registers it with the router and watches
// kinds/kill in the kernel. Cleanup unwatches and removes it.
func (r *router) newCgroup(tb testing.TB, kinds KindSet, kill KillSet) *testCgroup {
	tb.Helper()
	cg := &testCgroup{Cgroup: cgrouptest.New(tb, "podguard-probes-"), events: make(chan *Record, 1<<14)}
	r.mu.Lock()
	r.subs[cg.ID] = cg.events
	r.mu.Unlock()
	if err := r.p.SetWatched(cg.ID, kinds, kill); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { // before cgrouptest removes the cgroup
		r.p.Unwatch(cg.ID)
		r.mu.Lock()
		delete(r.subs, cg.ID)
		r.mu.Unlock()
	})
	return cg
}

// run starts cmd inside the cgroup (CLONE_INTO_CGROUP) and waits for it.
func (cg *testCgroup) run(tb testing.TB, cmd *exec.Cmd) *os.ProcessState {
	tb.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD}
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
func (cg *testCgroup) waitFor(tb testing.TB, what string, match func(*Record) bool) *Record {
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

func isKind(k Kind) func(*Record) bool { return func(e *Record) bool { return e.Kind == k } }

// killedBySIGKILL reports whether a process ended by SIGKILL.
func killedBySIGKILL(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

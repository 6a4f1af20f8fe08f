//go:build linux && amd64

package probes

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHookSet: Load judges opens and connects with BPF-LSM exactly where
// a BPF-LSM program runs, else with the same programs on fentry where an
// fentry program runs, says which set it uses and why (HookSet, Stats,
// the attached hooks), and every open and connect record says which path
// made it. On this build VM (neither) it is the fallback: the tracepoint
// set, with the records made at syscall exit.
func TestHookSet(t *testing.T) {
	r := sharedProbes(t)
	want, lsmErr, fentryErr := HookSetTracepoints, probeLSM(), probeFentry()
	switch {
	case lsmErr == nil:
		want = HookSetLSM
	case fentryErr == nil:
		want = HookSetFentry
	}
	t.Logf("BPF-LSM probe: %v; fentry probe: %v", lsmErr, fentryErr)
	if got := r.p.HookSet(); got != want {
		t.Fatalf("HookSet() = %q, want %q", got, want)
	}
	st, err := r.p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.HookSet != want || st.HookSetReason == "" {
		t.Errorf("Stats: hook set %q (%q), want %q with a reason", st.HookSet, st.HookSetReason, want)
	}
	if want == HookSetTracepoints && !strings.Contains(st.HookSetReason, "no BPF-LSM: ") && !strings.Contains(st.HookSetReason, "no fentry: ") {
		t.Errorf("Stats.HookSetReason = %q, want both probes' errors", st.HookSetReason)
	}
	var hooks []string
	for _, a := range r.p.Attached() {
		if strings.HasPrefix(a, "lsm/") || strings.HasPrefix(a, "fentry/") {
			hooks = append(hooks, a)
		}
	}
	wantHooks := map[HookSet]string{HookSetLSM: "[lsm/file_open lsm/socket_connect]",
		HookSetFentry: "[fentry/security_file_open fentry/security_socket_connect]", HookSetTracepoints: "[]"}[want]
	if fmt.Sprint(hooks) != wantHooks {
		t.Errorf("attached security hooks %v, want %s", hooks, wantHooks)
	}
	openAndConnect(t, r, want != HookSetTracepoints)
}

// openAndConnect checks that an open, a failed open and a refused
// connect are each reported once, by the hook set in use (byLSM).
func openAndConnect(t *testing.T, r *router, byLSM bool) {
	t.Helper()
	cg := r.newCgroup(t, KindsOf(KindOpen, KindConnect), 0)
	dir := realDir(t)
	path := filepath.Join(dir, "hookset")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	port := closedLoopbackPort(t)
	end := filepath.Join(dir, "end")
	cg.trigger(t, dir, "open-read", path, missing, "then", "tcp", "127.0.0.1", strconv.Itoa(port), "refused",
		"then", "open-read", end)
	var opens, failed, connects []*Record
	for ev := cg.waitFor(t, "an event", anyRecord); ev.Path != end; ev = cg.waitFor(t, "open of "+end, anyRecord) {
		switch {
		case ev.Kind == KindOpen && ev.Path == path:
			opens = append(opens, ev)
		case ev.Kind == KindOpen && ev.Path == missing:
			failed = append(failed, ev)
		case ev.Kind == KindConnect && int(ev.Port) == port:
			connects = append(connects, ev)
		}
	}
	if len(opens) != 1 || len(failed) != 1 || len(connects) != 1 {
		t.Fatalf("%d opens of %s, %d of %s, %d connects to port %d: want one each", len(opens), path, len(failed), missing, len(connects), port)
	}
	if ev := opens[0]; ev.ByLSM != byLSM || ev.Ino == 0 {
		t.Errorf("open: ByLSM %v (want %v) ret %d ino %d", ev.ByLSM, byLSM, ev.Ret, ev.Ino)
	}
	// a failed open never reaches security_file_open: judged at exit
	// with either set (no prefilter here: every failure is reported)
	if ev := failed[0]; ev.ByLSM || ev.Ret != -int32(unix.ENOENT) {
		t.Errorf("failed open: ByLSM %v ret %d, want a record at exit with -ENOENT", ev.ByLSM, ev.Ret)
	}
	wantRet := -int32(unix.ECONNREFUSED)
	if byLSM {
		wantRet = 0 // reported before the connect is tried
	}
	if ev := connects[0]; ev.ByLSM != byLSM || ev.Ret != wantRet || ev.Family != unix.AF_INET || ev.Addr.String() != "127.0.0.1" {
		t.Errorf("connect: ByLSM %v ret %d %v, want ByLSM %v ret %d to 127.0.0.1", ev.ByLSM, ev.Ret, ev.Addr, byLSM, wantRet)
	}
}

func anyRecord(*Record) bool { return true }

// TestHookSetForced: Options.HookSet overrides the choice. Forcing the
// LSM set where the kernel cannot load BPF-LSM programs fails the load
// (it never runs without the hooks it was asked for).
func TestHookSetForced(t *testing.T) {
	needRoot(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := Load(Options{HookSet: HookSetTracepoints, Logger: quiet})
	if err != nil {
		t.Fatalf("load with the tracepoint set forced: %v", err)
	}
	set, why := p.HookSet(), p.HookSetReason()
	p.Close()
	if set != HookSetTracepoints || !strings.Contains(why, "forced") {
		t.Errorf("forced tracepoints: hook set %q (%s)", set, why)
	}
	p, err = Load(Options{HookSet: HookSetLSM, Logger: quiet})
	if lsmErr := probeLSM(); lsmErr == nil || errors.Is(lsmErr, errNotRun) { // LSM programs load and attach
		if err != nil {
			t.Fatalf("load with the LSM set on a kernel with BPF-LSM: %v", err)
		}
		p.Close()
		return
	}
	if err == nil {
		p.Close()
		t.Fatal("forcing the LSM set without BPF-LSM loaded anyway")
	}
	if !strings.Contains(err.Error(), "lsm_file_open") {
		t.Errorf("error %q does not name the LSM program", err)
	}
}

// closedLoopbackPort returns a loopback TCP port nothing listens on.
func closedLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// armedRun runs a trigger that writes marker after its dangerous step,
// in a cgroup armed with kill, and asserts the kernel killed it first.
func armedRun(t *testing.T, kill KillSet, kind Kind, action string) *Record {
	t.Helper()
	r := sharedProbes(t)
	cg := r.newCgroup(t, 0, kill) // no kinds: the kill alone must be reported
	marker := filepath.Join(t.TempDir(), "marker")
	st := cg.run(t, exec.Command(triggerBin, action, marker))
	if !killedBySIGKILL(st) {
		t.Errorf("%s: process ended with %v, want killed by SIGKILL", action, st)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("%s: marker written: the process ran past the kill", action)
	}
	ev := cg.waitFor(t, kind.String(), isKind(kind))
	if !ev.Killed() {
		t.Errorf("%s event without FlagKilled: %+v", kind, ev)
	}
	return ev
}

func TestKillMemfdExec(t *testing.T) {
	ev := armedRun(t, KillMemfdExec, KindExec, "memfd-exec")
	if ev.Flags&FlagMemfd == 0 {
		t.Errorf("killed exec not marked memfd: %#x", ev.Flags)
	}
}

func TestKillReverseShell(t *testing.T) {
	ev := armedRun(t, KillReverseShell, KindExec, "revshell")
	if ev.Comm != "sh" || ev.Flags&FlagInetStdio == 0 {
		t.Errorf("comm %q flags %#x, want sh with inet stdio", ev.Comm, ev.Flags)
	}
}

func TestKillPtraceAttach(t *testing.T) {
	ev := armedRun(t, KillPtrace, KindPtrace, "ptrace")
	if ev.Request != 16 || ev.TargetPID <= 0 {
		t.Errorf("ptrace request %d target %d, want PTRACE_ATTACH and a pid", ev.Request, ev.TargetPID)
	}
}

func TestKillModuleLoad(t *testing.T) {
	ev := armedRun(t, KillModuleLoad, KindModule, "module")
	if ev.Syscall != 175 || ev.Name != "pgtest=1" {
		t.Errorf("module: syscall %d params %q, want init_module with pgtest=1", ev.Syscall, ev.Name)
	}
}

func TestKillUnshare(t *testing.T) {
	ev := armedRun(t, KillNamespace, KindUnshare, "unshare")
	if ev.NSFlags != 0x04000000 {
		t.Errorf("unshare flags %#x, want CLONE_NEWUTS", ev.NSFlags)
	}
}

func TestKillDrift(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec), KillDrift)
	merged := overlay(t)
	dir := t.TempDir()
	upper, lower := filepath.Join(dir, "upper-ran"), filepath.Join(dir, "lower-ran")

	st := cg.run(t, &exec.Cmd{Path: filepath.Join(merged, "bb-upper"), Args: []string{"touch", upper}})
	if !killedBySIGKILL(st) {
		t.Errorf("drifted binary: %v, want killed by SIGKILL", st)
	}
	if _, err := os.Stat(upper); err == nil {
		t.Error("drifted binary ran (marker written)")
	}
	ev := cg.waitFor(t, "exec", isKind(KindExec))
	if !ev.Killed() || ev.Flags&FlagUpper == 0 {
		t.Errorf("drift exec flags %#x, want killed and upper", ev.Flags)
	}
	// an image (lower layer) binary still runs
	st = cg.run(t, &exec.Cmd{Path: filepath.Join(merged, "bb-lower"), Args: []string{"touch", lower}})
	if !st.Success() {
		t.Errorf("lower-layer binary: %v, want success", st)
	}
	if _, err := os.Stat(lower); err != nil {
		t.Errorf("lower-layer binary did not run: %v", err)
	}
}

// TestKillDisarm: clearing the kill mask takes effect without reloading.
func TestKillDisarm(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, 0, KillNamespace)
	if err := r.p.SetWatched(cg.ID, KindsOf(KindUnshare), 0); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	cg.trigger(t, "", "unshare", marker)
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("disarmed unshare did not run: %v", err)
	}
	if ev := cg.waitFor(t, "unshare", byTrigger(KindUnshare)); ev.Killed() {
		t.Error("disarmed unshare reported killed")
	}
}

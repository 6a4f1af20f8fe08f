//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestExecEvent(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec, KindFork, KindExit), 0)
	dir := t.TempDir()
	cmd := exec.Command("/bin/busybox", "echo", "hello", "world")
	cmd.Dir = dir
	st := cg.run(t, cmd)

	ev := cg.waitFor(t, "exec", isKind(KindExec))
	wantExe, _ := filepath.EvalSymlinks("/bin/busybox")
	wantCwd, _ := filepath.EvalSymlinks(dir)
	if ev.Exe != wantExe {
		t.Errorf("Exe = %q, want %q", ev.Exe, wantExe)
	}
	if ev.Filename != "/bin/busybox" {
		t.Errorf("Filename = %q, want /bin/busybox", ev.Filename)
	}
	if want := []string{"/bin/busybox", "echo", "hello", "world"}; !slices.Equal(ev.Args, want) {
		t.Errorf("Args = %q, want %q", ev.Args, want)
	}
	if ev.Cwd != wantCwd {
		t.Errorf("Cwd = %q, want %q", ev.Cwd, wantCwd)
	}
	if ev.TGID != uint32(st.Pid()) || ev.PPID != uint32(os.Getpid()) {
		t.Errorf("TGID/PPID = %d/%d, want %d/%d", ev.TGID, ev.PPID, st.Pid(), os.Getpid())
	}
	if ev.Comm != "busybox" || ev.CgroupID != cg.ID || ev.UID != 0 || ev.EUID != 0 {
		t.Errorf("Comm %q CgroupID %d UID %d EUID %d, want busybox %d 0 0", ev.Comm, ev.CgroupID, ev.UID, ev.EUID, cg.ID)
	}
	if ev.Flags&(FlagUpper|FlagMemfd|FlagStdinSock|FlagKilled) != 0 {
		t.Errorf("Flags = %#x, want none of upper/memfd/stdin-socket/killed", ev.Flags)
	}
	exit := cg.waitFor(t, "exit", func(e *Record) bool { return e.Kind == KindExit && e.TGID == uint32(st.Pid()) })
	if exit.ExitCode != 0 || exit.ExitSignal != 0 {
		t.Errorf("exit code/signal = %d/%d, want 0/0", exit.ExitCode, exit.ExitSignal)
	}
}

func TestForkExitCode(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindFork, KindExit), 0)
	// the shell forks once for `busybox true`, then exits with 3
	st := cg.run(t, exec.Command("/bin/busybox", "sh", "-c", "/bin/busybox true; exit 3"))
	if st.ExitCode() != 3 {
		t.Fatalf("shell exit code %d, want 3", st.ExitCode())
	}
	fork := cg.waitFor(t, "fork", isKind(KindFork))
	if fork.TGID != uint32(st.Pid()) || fork.ChildPID == 0 || fork.ChildPID == fork.TGID {
		t.Errorf("fork TGID %d child %d, want parent %d and a new child", fork.TGID, fork.ChildPID, st.Pid())
	}
	exit := cg.waitFor(t, "exit of the shell", func(e *Record) bool { return e.Kind == KindExit && e.TGID == uint32(st.Pid()) })
	if exit.ExitCode != 3 {
		t.Errorf("ExitCode = %d, want 3", exit.ExitCode)
	}
}

func TestExecFromMemfd(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec, KindMemfd), 0)
	marker := filepath.Join(t.TempDir(), "marker")
	cg.trigger(t, "", "memfd-exec", marker)
	ev := cg.waitFor(t, "exec of the memfd", func(e *Record) bool { return e.Kind == KindExec && e.Comm != "trigger" })
	if ev.Flags&FlagMemfd == 0 || ev.Exe != "/memfd:pgtest" {
		t.Errorf("memfd exec: Flags %#x Exe %q, want FlagMemfd and /memfd:pgtest", ev.Flags, ev.Exe)
	}
	if !slices.Equal(ev.Args, []string{triggerBin, "marker", marker}) { // the trigger runs itself from the memfd
		t.Errorf("Args = %q", ev.Args)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("unarmed memfd exec must run: %v", err)
	}
}

// overlay mounts lower (holding busybox as bb-lower) + upper and returns
// the merged dir with bb-upper written through it (upper layer only).
func overlay(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "lower", "bb-lower"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(base, "merged")
	opts := "lowerdir=" + filepath.Join(base, "lower") + ",upperdir=" + filepath.Join(base, "upper") +
		",workdir=" + filepath.Join(base, "work")
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Skipf("mount overlayfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(merged, "bb-upper"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	return merged
}

func TestExecOverlayUpper(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec), 0)
	merged := overlay(t)
	for _, c := range []struct {
		bin   string
		upper bool
	}{{"bb-upper", true}, {"bb-lower", false}} {
		cg.run(t, &exec.Cmd{Path: filepath.Join(merged, c.bin), Args: []string{"true"}})
		ev := cg.waitFor(t, "exec "+c.bin, isKind(KindExec))
		if got := ev.Flags&FlagUpper != 0; got != c.upper {
			t.Errorf("%s: upper = %v, want %v (Exe %q)", c.bin, got, c.upper, ev.Exe)
		}
		if ev.Exe != filepath.Join(merged, c.bin) {
			t.Errorf("Exe = %q, want %q", ev.Exe, filepath.Join(merged, c.bin))
		}
	}
}

func TestExecWithSocketStdin(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec, KindDup), 0)
	marker := filepath.Join(t.TempDir(), "marker")
	cg.trigger(t, "", "revshell", marker)
	dup := cg.waitFor(t, "dup", func(e *Record) bool { return e.Kind == KindDup && e.Comm == "trigger" })
	if dup.NewFD != 0 || dup.Flags&FlagOldSocket == 0 || dup.Flags&FlagInetStdio == 0 {
		t.Errorf("dup: NewFD %d Flags %#x, want 0 and old-socket|inet", dup.NewFD, dup.Flags)
	}
	ev := cg.waitFor(t, "exec of sh", func(e *Record) bool { return e.Kind == KindExec && e.Comm == "sh" })
	if ev.Flags&FlagStdinSock == 0 || ev.Flags&FlagInetStdio == 0 || ev.Flags&FlagStdoutSock != 0 {
		t.Errorf("Flags = %#x, want stdin-socket and inet-stdio, not stdout-socket", ev.Flags)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("unarmed shell must run: %v", err)
	}
}

// TestHostSilent: with host monitoring off, tasks outside watched
// cgroups produce nothing, while a watched cgroup still does.
func TestHostSilent(t *testing.T) {
	r := sharedProbes(t)
	hostPath := filepath.Join(t.TempDir(), "host-open")
	if err := os.WriteFile(hostPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ { // opens and execs from the test process (host)
		f, err := os.Open(hostPath)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		exec.Command("/bin/busybox", "true").Run()
	}
	// a watched event after the host activity: the ring buffer is one
	// ordered queue, so once it arrives the host events would have too.
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	dir := t.TempDir()
	cg.trigger(t, dir, "open-rel", "barrier")
	cg.waitFor(t, "barrier open", func(e *Record) bool { return e.Kind == KindOpen && e.RawPath == "barrier" })
	for _, e := range r.strays() {
		if e.Path == hostPath || e.TGID == uint32(os.Getpid()) || e.Comm == "busybox" {
			t.Errorf("host event leaked: %s pid %d comm %q path %q cgroup %d", e.Kind, e.TGID, e.Comm, e.Path, e.CgroupID)
		}
	}
}

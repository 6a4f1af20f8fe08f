//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// The other routes to effects the rules judge (bpf/routes.h, uring.h).

const nsEinval = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_FS // test/trigger's clone-ns

func TestCloneWithNamespaceFlags(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindClone), 0)
	dir := t.TempDir()
	// A plain fork and a clone3 without namespace flags come first: the
	// first clone event must be clone-ns's.
	cg.trigger(t, dir, "clone-plain", Then, "clone-ns", filepath.Join(dir, "m1"))
	ev := cg.waitFor(t, "clone", byTrigger(KindClone))
	if ev.Syscall != unix.SYS_CLONE || ev.NSFlags&^0xff != nsEinval || ev.Flags&FlagUnreadable != 0 {
		t.Errorf("clone: syscall %d flags %#x event flags %#x", ev.Syscall, ev.NSFlags, ev.Flags)
	}
	cg.trigger(t, dir, "clone-ns", filepath.Join(dir, "m2"), "clone3")
	ev = cg.waitFor(t, "clone3", byTrigger(KindClone))
	if ev.Syscall != unix.SYS_CLONE3 || ev.NSFlags != nsEinval || ev.Flags&FlagUnreadable != 0 {
		t.Errorf("clone3: syscall %d flags %#x event flags %#x", ev.Syscall, ev.NSFlags, ev.Flags)
	}
	cg.trigger(t, dir, "clone-ns", filepath.Join(dir, "m3"), "unfaulted")
	ev = cg.waitFor(t, "clone3 with unfaulted clone_args", byTrigger(KindClone))
	if ev.Syscall != unix.SYS_CLONE3 || ev.Flags&FlagUnreadable == 0 {
		t.Errorf("clone3 unfaulted: syscall %d flags %#x event flags %#x, want FlagUnreadable", ev.Syscall, ev.NSFlags, ev.Flags)
	}
}

// Then is test/trigger's separator of actions.
const Then = "then"

func TestKillCloneNamespace(t *testing.T) {
	for _, mode := range []string{"", "clone3", "unfaulted"} {
		t.Run("clone"+mode, func(t *testing.T) {
			r := sharedProbes(t)
			cg := r.newCgroup(t, 0, KillNamespace)
			marker := filepath.Join(t.TempDir(), "marker")
			args := []string{"clone-ns", marker}
			if mode != "" {
				args = append(args, mode)
			}
			st := cg.run(t, exec.Command(triggerBin, args...))
			if !killedBySIGKILL(st) {
				t.Errorf("process ended with %v, want killed by SIGKILL", st)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("marker written: the process ran past the kill")
			}
			if ev := cg.waitFor(t, "clone", isKind(KindClone)); !ev.Killed() {
				t.Errorf("clone event without FlagKilled: %+v", ev)
			}
		})
	}
}

func TestMountAPIAndMknod(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindMount, KindMknod), 0)
	dir := realDir(t)
	cg.trigger(t, dir, "mount-api", "proc", Then, "mknod", dir, Then, "mkfifo", filepath.Join(dir, "fifo"))
	ev := cg.waitFor(t, "fsopen", func(e *Record) bool { return e.Kind == KindMount && e.Syscall == unix.SYS_FSOPEN })
	if ev.FSType != "proc" {
		t.Errorf("fsopen: fstype %q, want proc", ev.FSType)
	}
	ev = cg.waitFor(t, "fsconfig", func(e *Record) bool { return e.Kind == KindMount && e.Syscall == unix.SYS_FSCONFIG })
	if ev.Name != "source" || ev.Source != "/dev/pgtest" || ev.MountFlags != unix.FSCONFIG_SET_STRING {
		t.Errorf("fsconfig: key %q source %q cmd %d", ev.Name, ev.Source, ev.MountFlags)
	}
	ev = cg.waitFor(t, "open_tree", func(e *Record) bool { return e.Kind == KindMount && e.Syscall == unix.SYS_OPEN_TREE })
	if ev.Source != "/dev" || ev.MountFlags != unix.OPEN_TREE_CLONE {
		t.Errorf("open_tree: source %q flags %#x", ev.Source, ev.MountFlags)
	}
	ev = cg.waitFor(t, "fspick", func(e *Record) bool { return e.Kind == KindMount && e.Syscall == unix.SYS_FSPICK })
	if ev.Target != "/" {
		t.Errorf("fspick: target %q", ev.Target)
	}
	ev = cg.waitFor(t, "mknod", byTrigger(KindMknod))
	if ev.Syscall != unix.SYS_MKNOD || ev.Path != filepath.Join(dir, "pg-blk") || ev.Mode&unix.S_IFMT != unix.S_IFBLK || ev.Dev != uint32(unix.Mkdev(7, 0)) {
		t.Errorf("mknod: syscall %d path %q mode %#o dev %#x", ev.Syscall, ev.Path, ev.Mode, ev.Dev)
	}
	ev = cg.waitFor(t, "mknodat", byTrigger(KindMknod))
	if ev.Syscall != unix.SYS_MKNODAT || ev.Path != filepath.Join(dir, "pg-chr") || ev.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("mknodat: syscall %d path %q mode %#o", ev.Syscall, ev.Path, ev.Mode)
	}
	ev = cg.waitFor(t, "mknod fifo", byTrigger(KindMknod))
	if ev.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("mkfifo: mode %#o", ev.Mode)
	}
}

func TestSignalRoutes(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindKill), 0)
	target := exec.Command("/bin/busybox", "sleep", "30")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Process.Kill(); target.Wait() })
	pid := int32(target.Process.Pid)
	cg.trigger(t, "", "signals", itoa(uint64(pid)), "0")
	for _, want := range []struct {
		nr   uint32
		tgid int32
	}{{unix.SYS_RT_SIGQUEUEINFO, 0}, {unix.SYS_RT_TGSIGQUEUEINFO, pid}, {unix.SYS_TKILL, 0}, {unix.SYS_PIDFD_SEND_SIGNAL, 0}} {
		ev := cg.waitFor(t, "signal", func(e *Record) bool { // not the Go runtime's tgkill(SIGURG)
			return e.Kind == KindKill && e.Comm == "trigger" && e.Syscall != unix.SYS_TGKILL
		})
		if ev.Syscall != want.nr || ev.TargetPID != pid || ev.Signal != 0 || ev.TGIDArg != want.tgid {
			t.Errorf("syscall %d: target %d signal %d tgid %d, want syscall %d target %d tgid %d",
				ev.Syscall, ev.TargetPID, ev.Signal, ev.TGIDArg, want.nr, pid, want.tgid)
		}
		if want.nr == unix.SYS_PIDFD_SEND_SIGNAL && ev.FD < 3 {
			t.Errorf("pidfd_send_signal: fd %d", ev.FD)
		}
	}
}

func TestTruncateRoutes(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindTruncate), 0)
	dir := realDir(t)
	f := filepath.Join(dir, "log")
	cg.trigger(t, dir, "ftruncate", f, Then, "truncate", "log")
	ev := cg.waitFor(t, "ftruncate", byTrigger(KindTruncate))
	if ev.Syscall != unix.SYS_FTRUNCATE || ev.Path != f || ev.Length != 0 {
		t.Errorf("ftruncate: syscall %d path %q length %d", ev.Syscall, ev.Path, ev.Length)
	}
	ev = cg.waitFor(t, "truncate", byTrigger(KindTruncate))
	if ev.Syscall != unix.SYS_TRUNCATE || ev.Path != f || ev.RawPath != "log" {
		t.Errorf("truncate: syscall %d path %q raw %q", ev.Syscall, ev.Path, ev.RawPath)
	}
}

func TestIOURingRoutes(t *testing.T) {
	r := sharedProbes(t)
	if !slicesHas(r.p.Attached(), "raw_tracepoint/io_uring_submit_req") {
		t.Skipf("no io_uring submit tracepoint hooked: %v", r.p.Attached())
	}
	cg := r.newCgroup(t, KindsOf(KindIOURing, KindOpen, KindConnect, KindURingOp), 0)
	dir := realDir(t)
	w := filepath.Join(dir, "w")
	cg.trigger(t, dir, "io-uring-open", "/etc/hostname", Then, "io-uring-conn", "127.0.0.1", "9",
		Then, "io-uring-write", w)
	ev := cg.waitFor(t, "io_uring_setup", byTrigger(KindIOURing))
	if ev.Entries != 4 || ev.Flags&FlagUnreadable != 0 {
		t.Errorf("io_uring_setup: entries %d flags %#x", ev.Entries, ev.Flags)
	}
	ev = cg.waitFor(t, "io_uring openat", func(e *Record) bool { return e.Kind == KindOpen && e.URingOp != 0 })
	if ev.Path != "/etc/hostname" || ev.URingOp != 18+1 || ev.DirFD != unix.AT_FDCWD || ev.Syscall != 0 {
		t.Errorf("io_uring openat: path %q op %d dirfd %d syscall %d", ev.Path, ev.URingOp, ev.DirFD, ev.Syscall)
	}
	ev = cg.waitFor(t, "io_uring connect", func(e *Record) bool { return e.Kind == KindConnect && e.URingOp != 0 })
	if ev.Addr.String() != "127.0.0.1" || ev.Port != 9 || ev.Family != unix.AF_INET {
		t.Errorf("io_uring connect: %v:%d family %d flags %#x", ev.Addr, ev.Port, ev.Family, ev.Flags)
	}
	ev = cg.waitFor(t, "io_uring write", byTrigger(KindURingOp))
	if ev.URingOp != 23+1 || ev.Path != w || ev.FD < 3 || ev.FixedFile {
		t.Errorf("io_uring write: op %d path %q fd %d fixed %v", ev.URingOp, ev.Path, ev.FD, ev.FixedFile)
	}
}

func slicesHas(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRoutesOtherHooks runs the route tests with the handlers loaded as
// tracepoint programs (the hook of kernels with faultable syscall
// tracepoints) and with the perf buffer.
func TestRoutesOtherHooks(t *testing.T) {
	needRoot(t)
	if perfMode || tpMode {
		t.Skip("already in another mode")
	}
	tests := []struct {
		name string
		test func(*testing.T)
	}{
		{"CloneWithNamespaceFlags", TestCloneWithNamespaceFlags},
		{"KillCloneNamespace", TestKillCloneNamespace},
		{"MountAPIAndMknod", TestMountAPIAndMknod},
		{"SignalRoutes", TestSignalRoutes},
		{"TruncateRoutes", TestTruncateRoutes},
		{"IOURingRoutes", TestIOURingRoutes},
	}
	for _, mode := range []struct {
		name     string
		tp, perf bool
	}{{"tracepoint", true, false}, {"perf", false, true}} {
		tpMode, perfMode = mode.tp, mode.perf
		for _, tc := range tests {
			t.Run(mode.name+"/"+tc.name, tc.test)
		}
		tpMode, perfMode = false, false
	}
}

// TestRoutesIA32: the routes through the ia32 ABI (int 0x80, a 32-bit
// program) are translated too: clone is killed, truncate and mknod seen.
func TestRoutesIA32(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindTruncate, KindMknod), KillNamespace)
	dir := realDir(t)
	marker := filepath.Join(dir, "marker")
	if st := run386(t, cg, dir, "clone-ns", marker); !killedBySIGKILL(st) {
		t.Errorf("32-bit clone: ended with %v, want killed by SIGKILL", st)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("32-bit clone: marker written: the process ran past the kill")
	}
	if ev := cg.waitFor(t, "ia32 clone", isKind(KindClone)); !ev.Killed() || ev.Flags&FlagCompat == 0 || ev.Syscall != unix.SYS_CLONE {
		t.Errorf("ia32 clone: flags %#x syscall %d", ev.Flags, ev.Syscall)
	}
	run386(t, cg, dir, "mknod", dir, Then, "truncate", "t32") // truncate fails (no such file) after the event
	if ev := cg.waitFor(t, "ia32 mknod", isKind(KindMknod)); ev.Path != filepath.Join(dir, "pg-blk") || ev.Mode&unix.S_IFMT != unix.S_IFBLK {
		t.Errorf("ia32 mknod: path %q mode %#o", ev.Path, ev.Mode)
	}
	if ev := cg.waitFor(t, "ia32 truncate", isKind(KindTruncate)); ev.Path != filepath.Join(dir, "t32") || ev.Flags&FlagCompat == 0 {
		t.Errorf("ia32 truncate: path %q flags %#x", ev.Path, ev.Flags)
	}
}

//go:build linux && amd64

package probes

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// run386 runs the 32-bit trigger (ia32 syscalls) in the cgroup.
func run386(t *testing.T, cg *testCgroup, dir string, args ...string) *os.ProcessState {
	t.Helper()
	if err := exec.Command(trigger386, "open-rel", os.DevNull).Run(); err != nil {
		t.Skipf("32-bit binaries do not run here (no IA32 emulation?): %v", err)
	}
	cmd := exec.Command(trigger386, args...)
	cmd.Dir = dir
	return cg.run(t, cmd)
}

// TestIA32Syscalls: syscalls made through the ia32 ABI are translated,
// not missed: a 32-bit program cannot slip past the probes.
func TestIA32Syscalls(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen, KindConnect, KindSocket, KindUnshare, KindMount, KindUmount, KindSetID), 0)
	dir := realDir(t)

	run386(t, cg, dir, "open-rel", "file32")
	ev := cg.waitFor(t, "ia32 openat", func(e *Record) bool { return e.Kind == KindOpen && e.RawPath == "file32" })
	if ev.Path != filepath.Join(dir, "file32") || ev.Syscall != unix.SYS_OPENAT || ev.Flags&FlagCompat == 0 || ev.Mode != 0o640 {
		t.Errorf("ia32 openat: Path %q syscall %d flags %#x mode %#o", ev.Path, ev.Syscall, ev.Flags, ev.Mode)
	}

	run386(t, cg, dir, "connect", "inet") // Go's 386 port uses socketcall
	sock := cg.waitFor(t, "ia32 socket", func(e *Record) bool { return e.Kind == KindSocket && e.Comm == "trigger386" })
	if sock.Family != unix.AF_INET || sock.Flags&FlagCompat == 0 {
		t.Errorf("ia32 socket: family %d flags %#x", sock.Family, sock.Flags)
	}
	conn := cg.waitFor(t, "ia32 connect", func(e *Record) bool { return e.Kind == KindConnect && e.Comm == "trigger386" })
	if conn.Addr != netip.MustParseAddr("10.1.2.3") || conn.Port != 4242 {
		t.Errorf("ia32 connect: %v:%d", conn.Addr, conn.Port)
	}

	run386(t, cg, dir, "misc", t.TempDir())
	mnt := cg.waitFor(t, "ia32 mount", func(e *Record) bool { return e.Kind == KindMount && e.Comm == "trigger386" && e.FSType != "" })
	if mnt.FSType != "tmpfs" || mnt.Source != "pgsrc" || mnt.Flags&FlagCompat == 0 {
		t.Errorf("ia32 mount: %q %q flags %#x", mnt.Source, mnt.FSType, mnt.Flags)
	}
	id := cg.waitFor(t, "ia32 setresgid32", func(e *Record) bool { return e.Kind == KindSetID && e.Comm == "trigger386" })
	if id.Syscall != unix.SYS_SETRESGID || id.IDs != [3]int32{4321, 4321, 4321} {
		t.Errorf("ia32 setresgid: syscall %d ids %v", id.Syscall, id.IDs)
	}
}

// TestIA32Kill: the in-kernel kills hold for 32-bit callers too.
func TestIA32Kill(t *testing.T) {
	for _, c := range []struct {
		action string
		kill   KillSet
		kind   Kind
	}{
		{"ptrace", KillPtrace, KindPtrace},
		{"unshare", KillNamespace, KindUnshare},
		{"module", KillModuleLoad, KindModule},
	} {
		t.Run(c.action, func(t *testing.T) {
			r := sharedProbes(t)
			cg := r.newCgroup(t, 0, c.kill)
			marker := filepath.Join(t.TempDir(), "marker")
			st := run386(t, cg, "", c.action, marker)
			if !killedBySIGKILL(st) {
				t.Errorf("32-bit %s: %v, want killed by SIGKILL", c.action, st)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("32-bit %s ran past the kill", c.action)
			}
			ev := cg.waitFor(t, c.kind.String(), isKind(c.kind))
			if !ev.Killed() || ev.Flags&FlagCompat == 0 {
				t.Errorf("event flags %#x, want killed and compat", ev.Flags)
			}
		})
	}
}

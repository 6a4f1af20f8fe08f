//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPrivilegeSyscalls(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindBPF, KindVMWrite, KindMemfd, KindKill, KindUnshare,
		KindMount, KindUmount, KindSetID), 0)
	mnt := t.TempDir()
	cmd := exec.Command(triggerBin, "misc", mnt)
	st := cg.run(t, cmd)
	if !st.Success() {
		t.Fatalf("trigger misc: %v", st)
	}
	pid := int32(st.Pid())

	if ev := cg.waitFor(t, "bpf", byTrigger(KindBPF)); ev.Cmd != 0 || ev.Syscall != unix.SYS_BPF {
		t.Errorf("bpf: cmd %d syscall %d", ev.Cmd, ev.Syscall)
	}
	if ev := cg.waitFor(t, "process_vm_writev", byTrigger(KindVMWrite)); ev.TargetPID != pid {
		t.Errorf("process_vm_writev target %d, want %d", ev.TargetPID, pid)
	}
	if ev := cg.waitFor(t, "memfd_create", byTrigger(KindMemfd)); ev.Name != "pg-misc" || ev.MemfdFlags != unix.MFD_CLOEXEC {
		t.Errorf("memfd_create: name %q flags %#x", ev.Name, ev.MemfdFlags)
	}
	ev := cg.waitFor(t, "kill(pid, 0)", func(e *Record) bool {
		return e.Kind == KindKill && e.Syscall == unix.SYS_KILL && e.TGID == uint32(pid)
	})
	if ev.TargetPID != pid || ev.Signal != 0 {
		t.Errorf("kill: target %d signal %d, want %d 0", ev.TargetPID, ev.Signal, pid)
	}
	ev = cg.waitFor(t, "tgkill", func(e *Record) bool {
		return e.Kind == KindKill && e.Syscall == unix.SYS_TGKILL && e.Signal == 0 && e.TGID == uint32(pid)
	})
	if ev.TGIDArg != pid || ev.TargetPID != int32(ev.PID) {
		t.Errorf("tgkill: tgid %d tid %d, want %d %d", ev.TGIDArg, ev.TargetPID, pid, ev.PID)
	}
	if ev := cg.waitFor(t, "unshare", byTrigger(KindUnshare)); ev.NSFlags != unix.CLONE_NEWNS {
		t.Errorf("unshare flags %#x, want CLONE_NEWNS", ev.NSFlags)
	}
	ev = cg.waitFor(t, "mount tmpfs", func(e *Record) bool { return e.Kind == KindMount && e.FSType == "tmpfs" })
	if ev.Source != "pgsrc" || ev.Target != mnt || ev.MountFlags != unix.MS_NOSUID {
		t.Errorf("mount: %q on %q flags %#x", ev.Source, ev.Target, ev.MountFlags)
	}
	if ev := cg.waitFor(t, "umount", byTrigger(KindUmount)); ev.Target != mnt || ev.MountFlags != unix.MNT_DETACH {
		t.Errorf("umount: %q flags %#x", ev.Target, ev.MountFlags)
	}
	ev = cg.waitFor(t, "setresgid", func(e *Record) bool { return e.Kind == KindSetID && e.Syscall == unix.SYS_SETRESGID })
	if ev.IDs != [3]int32{4321, 4321, 4321} {
		t.Errorf("setresgid ids %v", ev.IDs)
	}
}

func TestSetnsAndPtraceEvents(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindSetns, KindPtrace), 0)
	cg.trigger(t, "", "setns")
	if ev := cg.waitFor(t, "setns", byTrigger(KindSetns)); ev.NSFlags != unix.CLONE_NEWUTS || ev.FD < 3 {
		t.Errorf("setns: nstype %#x fd %d", ev.NSFlags, ev.FD)
	}
	marker := t.TempDir() + "/m"
	cg.trigger(t, "", "ptrace", marker)
	ev := cg.waitFor(t, "ptrace", byTrigger(KindPtrace))
	if ev.Request != unix.PTRACE_ATTACH || ev.TargetPID <= 0 || ev.Killed() {
		t.Errorf("ptrace: request %d target %d killed %v", ev.Request, ev.TargetPID, ev.Killed())
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("unarmed ptrace did not continue: %v", err)
	}
}

func TestModuleEventUnarmed(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindModule), 0)
	marker := t.TempDir() + "/m"
	cg.trigger(t, "", "module", marker)
	ev := cg.waitFor(t, "init_module", byTrigger(KindModule))
	if ev.Syscall != unix.SYS_INIT_MODULE || ev.Name != "pgtest=1" || ev.ModuleFD != -1 {
		t.Errorf("init_module: syscall %d params %q fd %d", ev.Syscall, ev.Name, ev.ModuleFD)
	}
	ev = cg.waitFor(t, "finit_module", byTrigger(KindModule))
	if ev.Syscall != unix.SYS_FINIT_MODULE || ev.ModuleFD != 0 || ev.Name != "pgtest=1" {
		t.Errorf("finit_module: syscall %d fd %d params %q", ev.Syscall, ev.ModuleFD, ev.Name)
	}
}

package trigger

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ptrace attaches to a child, then writes the marker.
func ptrace(args []string) error {
	child := exec.Command("/bin/busybox", "sleep", "30")
	if err := child.Start(); err != nil {
		return err
	}
	defer child.Process.Kill()
	if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_ATTACH, uintptr(child.Process.Pid), 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("ptrace attach: %w", e)
	}
	return marker(args[0])
}

// module tries init_module and finit_module (both fail), then writes the
// marker.
func module(args []string) error {
	params, _ := unix.BytePtrFromString("pgtest=1")
	unix.Syscall(unix.SYS_INIT_MODULE, 0, 0, uintptr(unsafe.Pointer(params)))
	unix.Syscall(unix.SYS_FINIT_MODULE, 0, uintptr(unsafe.Pointer(params)), 0)
	return marker(args[0])
}

func unshare(args []string) error {
	if err := unix.Unshare(unix.CLONE_NEWUTS); err != nil {
		return err
	}
	return marker(args[0])
}

func setns([]string) error {
	fd, err := unix.Open("/proc/self/ns/uts", unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	return unix.Setns(fd, unix.CLONE_NEWUTS)
}

// memfdExec copies this program into a memfd named pgtest and execs it
// from there (execveat AT_EMPTY_PATH) with the action marker: a fileless
// exec that needs nothing but this program, in a pod or a qemu guest.
func memfdExec(args []string) error {
	fd, err := unix.MemfdCreate("pgtest", 0)
	if err != nil {
		return fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	if err := copySelf(f); err != nil {
		return err
	}
	return execFD(int(f.Fd()), args[0])
}

// misc: bpf, process_vm_writev, memfd_create, kill, tgkill, then mount
// and umount (in a private mount namespace; dir is the mountpoint) and
// setresgid.
func misc(args []string) error {
	dir := args[0]
	unix.Syscall(unix.SYS_BPF, 0, 0, 0) // BPF_MAP_CREATE with no attr: EFAULT
	var buf [8]byte
	local := []unix.Iovec{{Base: &buf[0], Len: 8}}
	remote := []unix.RemoteIovec{{Base: uintptr(unsafe.Pointer(&buf[0])), Len: 8}}
	unix.ProcessVMWritev(os.Getpid(), local, remote, 0)
	if fd, err := unix.MemfdCreate("pg-misc", unix.MFD_CLOEXEC); err == nil {
		unix.Close(fd)
	}
	unix.Kill(os.Getpid(), 0)
	unix.Tgkill(os.Getpid(), unix.Gettid(), 0)
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := unix.Mount("pgsrc", dir, "tmpfs", unix.MS_NOSUID, "size=1m"); err != nil {
		return err
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return err
	}
	return unix.Setresgid(4321, 4321, 4321)
}

func bpfProgLoad([]string) error {
	unix.Syscall(unix.SYS_BPF, 5, 0, 0)
	return nil
}

func setuid0([]string) error {
	if err := unix.Setresuid(65534, 65534, 65534); err != nil {
		return err
	}
	unix.Setuid(0)
	return nil
}

func stormExec(args []string) error {
	n, err := strconv.Atoi(args[0])
	for i := 0; i < n && err == nil; i++ {
		err = exec.Command("/bin/busybox", "true").Run()
	}
	return err
}

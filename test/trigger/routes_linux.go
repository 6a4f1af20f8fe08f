package trigger

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Routes: the other syscalls to effects the rules already judge (clone
// with namespace flags, the new mount API, mknod, the signal syscalls
// beyond kill, truncate, io_uring). Every dangerous call is made so that
// the kernel refuses it after reading its arguments (EINVAL, EPERM,
// EBADF): the probes see the attempt and nothing is created.
func init() {
	for name, a := range map[string]action{
		"clone-ns":       {"<marker> [clone3|unfaulted]: clone (or clone3) with CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS (EINVAL), then the marker; unfaulted: clone3 with clone_args on a page never touched", cloneNS, 1},
		"clone-plain":    {": clone a child without namespace flags (fork+exec of /bin/busybox true), and clone3 without them", clonePlain, 0},
		"mount-api":      {"<fstype>: fsopen(fstype), fsconfig source=/dev/pgtest, open_tree(/dev, OPEN_TREE_CLONE), fspick(/); failures are fine", mountAPI, 1},
		"mknod":          {"<dir>: mknod dir/pg-blk (block 7,0) and mknodat dir/pg-chr (char 1,3); failures are fine", mknodDevices, 1},
		"mkfifo":         {"<path>: mknod(path, S_IFIFO|0600)", mkfifo, 1},
		"signals":        {"<pid> <signal> [only]: rt_sigqueueinfo, rt_tgsigqueueinfo, tkill and pidfd_send_signal to pid (only: just the one of these named); failures are fine", signals, 2},
		"signal-child":   {": start a child, then pidfd_send_signal, rt_sigqueueinfo and tgkill it with SIGTERM", signalChild, 0},
		"truncate":       {"<path>: truncate(path, 0)", truncatePath, 1},
		"ftruncate":      {"<path>: open(path, O_WRONLY|O_CREAT) without O_TRUNC, then ftruncate(fd, 0)", ftruncatePath, 1},
		"io-uring-open":  {"<path>: io_uring_setup, then IORING_OP_OPENAT of path (read-only)", uringOpen, 1},
		"io-uring-conn":  {"<ipv4> <port>: io_uring_setup, then IORING_OP_CONNECT of a TCP socket to ipv4:port; failures are fine", uringConnect, 2},
		"io-uring-write": {"<path>: open path O_WRONLY|O_CREAT, then IORING_OP_WRITE to it", uringWrite, 1},
	} {
		actions[name] = a
	}
}

// cloneArgs is struct clone_args (CLONE_ARGS_SIZE_VER0 = 64 bytes).
type cloneArgs struct {
	Flags, Pidfd, ChildTID, ParentTID, ExitSignal, Stack, StackSize, TLS uint64
}

// nsEinval asks for a user and a mount namespace together with CLONE_FS,
// which the kernel refuses (EINVAL) before it creates anything.
const nsEinval = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_FS

func cloneNS(args []string) error {
	mode := ""
	if len(args) > 1 {
		mode = args[1]
	}
	var errno unix.Errno
	switch mode {
	case "":
		_, _, errno = unix.RawSyscall6(unix.SYS_CLONE, nsEinval|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	case "clone3":
		ca := cloneArgs{Flags: nsEinval, ExitSignal: uint64(unix.SIGCHLD)}
		_, _, errno = unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&ca)), unsafe.Sizeof(ca), 0)
	case "unfaulted":
		p, err := unfaultedCloneArgs()
		if err != nil {
			return err
		}
		_, _, errno = unix.RawSyscall(unix.SYS_CLONE3, p, unsafe.Sizeof(cloneArgs{}), 0)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	if errno == 0 {
		return errors.New("clone with CLONE_NEWNS|CLONE_FS succeeded")
	}
	return marker(args[0])
}

// unfaultedCloneArgs writes clone_args asking for new namespaces into a
// file and maps it: the mapping's page has never been touched, so a
// non-faulting read at syscall entry cannot see it, while the kernel's
// own copy faults it in.
func unfaultedCloneArgs() (uintptr, error) {
	f, err := os.CreateTemp("", "pg-clone-args")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ca := cloneArgs{Flags: nsEinval, ExitSignal: uint64(unix.SIGCHLD)}
	page := make([]byte, os.Getpagesize())
	copy(page, unsafe.Slice((*byte)(unsafe.Pointer(&ca)), unsafe.Sizeof(ca)))
	if _, err := f.Write(page); err != nil {
		return 0, err
	}
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	m, err := unix.Mmap(int(f.Fd()), 0, len(page), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return 0, err
	}
	return uintptr(unsafe.Pointer(&m[0])), nil
}

// clonePlain makes the clones every program makes: a fork and exec (Go
// uses clone(CLONE_VFORK|CLONE_VM)) and a clone3 without namespace flags
// that the kernel refuses (exit signal out of range).
func clonePlain([]string) error {
	if err := stormExec([]string{"1"}); err != nil {
		return err
	}
	ca := cloneArgs{ExitSignal: 1 << 20}
	unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&ca)), unsafe.Sizeof(ca), 0)
	return nil
}

func mountAPI(args []string) error {
	fstype, _ := unix.BytePtrFromString(args[0])
	fd, _, _ := unix.Syscall(unix.SYS_FSOPEN, uintptr(unsafe.Pointer(fstype)), 0, 0)
	key, _ := unix.BytePtrFromString("source")
	val, _ := unix.BytePtrFromString("/dev/pgtest")
	unix.Syscall6(unix.SYS_FSCONFIG, fd, unix.FSCONFIG_SET_STRING, uintptr(unsafe.Pointer(key)), uintptr(unsafe.Pointer(val)), 0, 0)
	dev, _ := unix.BytePtrFromString("/dev")
	unix.Syscall(unix.SYS_OPEN_TREE, atFDCWD, uintptr(unsafe.Pointer(dev)), unix.OPEN_TREE_CLONE)
	root, _ := unix.BytePtrFromString("/")
	unix.Syscall(unix.SYS_FSPICK, atFDCWD, uintptr(unsafe.Pointer(root)), 0)
	return nil
}

// atFDCWD is AT_FDCWD as a syscall argument.
var atFDCWD = ^uintptr(99) // -100

func mknodDevices(args []string) error {
	blk, _ := unix.BytePtrFromString(args[0] + "/pg-blk")
	unix.Syscall(unix.SYS_MKNOD, uintptr(unsafe.Pointer(blk)), unix.S_IFBLK|0o600, uintptr(unix.Mkdev(7, 0)))
	unix.Mknodat(unix.AT_FDCWD, args[0]+"/pg-chr", unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3)))
	return nil
}

func mkfifo(args []string) error {
	return unix.Mknod(args[0], unix.S_IFIFO|0o600, 0)
}

func signals(args []string) error {
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	sig, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	only := ""
	if len(args) > 2 {
		only = args[2]
	}
	do := func(name string) bool { return only == "" || only == name }
	var info [128]byte // siginfo_t with si_code SI_QUEUE (-1)
	*(*int32)(unsafe.Pointer(&info[8])) = -1
	if do("rt_sigqueueinfo") {
		unix.Syscall(unix.SYS_RT_SIGQUEUEINFO, uintptr(pid), uintptr(sig), uintptr(unsafe.Pointer(&info)))
	}
	if do("rt_tgsigqueueinfo") {
		unix.Syscall6(unix.SYS_RT_TGSIGQUEUEINFO, uintptr(pid), uintptr(pid), uintptr(sig), uintptr(unsafe.Pointer(&info)), 0, 0)
	}
	if do("tkill") {
		unix.Syscall(unix.SYS_TKILL, uintptr(pid), uintptr(sig), 0)
	}
	if do("pidfd_send_signal") {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			unix.PidfdSendSignal(fd, unix.Signal(sig), nil, 0)
			unix.Close(fd)
		}
	}
	return nil
}

// signalChild signals its own child, the everyday use of these calls.
func signalChild([]string) error {
	child := exec.Command("/bin/busybox", "sleep", "30")
	if err := child.Start(); err != nil {
		return err
	}
	pid := child.Process.Pid
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0)
		unix.Close(fd)
	}
	unix.Tgkill(pid, pid, unix.SIGTERM)
	child.Wait()
	return nil
}

func truncatePath(args []string) error { return unix.Truncate(args[0], 0) }

func ftruncatePath(args []string) error {
	fd, err := unix.Open(args[0], unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Ftruncate(fd, 0)
}

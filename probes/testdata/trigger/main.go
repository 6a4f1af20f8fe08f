// Command trigger performs one kernel action per invocation for the
// probes tests. It runs inside a test cgroup; every action is something a
// probe must see. Usage: trigger <action> [args...].
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fatal(fmt.Errorf("usage: trigger <action> [args...]"))
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "open-rel": // openat(AT_FDCWD, rel, O_CREAT|O_WRONLY, 0640)
		err = closeFd(unix.Openat(unix.AT_FDCWD, args[0], unix.O_CREAT|unix.O_WRONLY, 0o640))
	case "open-dirfd": // openat(open(dir), name, O_CREAT|O_RDWR, 0600)
		var dfd int
		if dfd, err = unix.Open(args[0], unix.O_DIRECTORY|unix.O_RDONLY, 0); err == nil {
			err = closeFd(unix.Openat(dfd, args[1], unix.O_CREAT|unix.O_RDWR, 0o600))
		}
	case "openat2":
		err = closeFd(unix.Openat2(unix.AT_FDCWD, args[0], &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC}))
	case "creat":
		p, _ := unix.BytePtrFromString(args[0])
		fd, _, e := unix.Syscall(unix.SYS_CREAT, uintptr(unsafe.Pointer(p)), 0o604, 0)
		if e != 0 {
			err = e
		} else {
			err = unix.Close(int(fd))
		}
	case "files": // relative to the cwd
		err = files()
	case "connect":
		err = connect(args[0])
	case "dup-socket": // socket(AF_INET) dup2'ed onto stdin
		var s int
		if s, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0); err == nil {
			err = unix.Dup2(s, 0)
		}
	case "ptrace": // attach to a child, then write the marker
		err = ptrace(args[0])
	case "module": // init_module and finit_module, then write the marker
		params, _ := unix.BytePtrFromString("pgtest=1")
		unix.Syscall(unix.SYS_INIT_MODULE, 0, 0, uintptr(unsafe.Pointer(params)))
		unix.Syscall(unix.SYS_FINIT_MODULE, 0, uintptr(unsafe.Pointer(params)), 0)
		err = marker(args[0])
	case "unshare": // unshare(CLONE_NEWUTS), then write the marker
		if err = unix.Unshare(unix.CLONE_NEWUTS); err == nil {
			err = marker(args[0])
		}
	case "setns":
		var fd int
		if fd, err = unix.Open("/proc/self/ns/uts", unix.O_RDONLY, 0); err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWUTS)
		}
	case "memfd-exec": // exec busybox from a memfd as `touch marker`
		err = memfdExec(args[0])
	case "revshell": // exec /bin/sh with an inet socket on stdin
		var s int
		if s, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0); err == nil {
			if err = unix.Dup2(s, 0); err == nil {
				err = syscall.Exec("/bin/sh", []string{"sh", "-c", "touch " + args[0]}, os.Environ())
			}
		}
	case "misc":
		err = misc(args[0])
	case "bpf-prog-load": // bpf(BPF_PROG_LOAD) with no attributes: EFAULT, seen at entry
		unix.Syscall(unix.SYS_BPF, 5, 0, 0)
	case "setuid0": // drop to nobody, then ask for root back (EPERM)
		if err = unix.Setresuid(65534, 65534, 65534); err == nil {
			unix.Setuid(0)
		}
	case "tcp": // connect to addr:port over TCP, whatever answers
		var s int
		if s, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0); err == nil {
			ip := net.ParseIP(args[0]).To4()
			port, _ := strconv.Atoi(args[1])
			sa := &unix.SockaddrInet4{Port: port}
			copy(sa.Addr[:], ip)
			unix.Connect(s, sa) // refused or unreachable is fine: the attempt is the event
			unix.Close(s)
		}
	case "open-read": // open(path, O_RDONLY) for each path; failures are fine
		for _, p := range args {
			closeFd(unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0))
		}
	case "open-write": // open(path, O_WRONLY|O_CREAT, 0600) for each path
		for _, p := range args {
			closeFd(unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600))
		}
	case "storm-open": // open+close path n times
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n && err == nil; i++ {
			err = closeFd(unix.Open(args[0], unix.O_RDONLY, 0))
		}
	case "storm-exec": // run `busybox true` n times
		n, _ := strconv.Atoi(args[0])
		for i := 0; i < n && err == nil; i++ {
			err = exec.Command("/bin/busybox", "true").Run()
		}
	default:
		err = fmt.Errorf("unknown action %q", os.Args[1])
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "trigger:", err)
	os.Exit(2)
}

func closeFd(fd int, err error) error {
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func marker(path string) error { return os.WriteFile(path, []byte("ran\n"), 0o644) }

func files() error {
	steps := []func() error{
		func() error { return unix.Mkdirat(unix.AT_FDCWD, "d", 0o750) },
		func() error { return os.WriteFile("d/a", nil, 0o600) },
		func() error { return unix.Renameat(unix.AT_FDCWD, "d/a", unix.AT_FDCWD, "d/b") },
		func() error { return unix.Linkat(unix.AT_FDCWD, "d/b", unix.AT_FDCWD, "d/hard", 0) },
		func() error { return unix.Symlinkat("/etc/hostname", unix.AT_FDCWD, "d/sym") },
		func() error { return unix.Fchmodat(unix.AT_FDCWD, "d/b", 0o4755, 0) },
		func() error {
			f, err := os.Open("d/hard")
			if err != nil {
				return err
			}
			defer f.Close()
			return unix.Fchmod(int(f.Fd()), 0o640)
		},
		func() error { return unix.Unlinkat(unix.AT_FDCWD, "d/sym", 0) },
	}
	for i, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("files step %d: %w", i, err)
		}
	}
	return nil
}

// connect runs in a fresh, empty network namespace: nothing leaves it.
func connect(kind string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return err
	}
	switch kind {
	case "inet":
		s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		unix.Connect(s, &unix.SockaddrInet4{Port: 4242, Addr: [4]byte{10, 1, 2, 3}})
	case "inet6":
		s, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM, 0)
		if err != nil {
			return err
		}
		unix.Connect(s, &unix.SockaddrInet6{Port: 4243, Addr: [16]byte{0xfd, 0, 15: 1}})
	default: // a unix socket path
		s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		unix.Connect(s, &unix.SockaddrUnix{Name: kind})
	}
	return nil
}

func ptrace(markerPath string) error {
	child := exec.Command("/bin/busybox", "sleep", "30")
	if err := child.Start(); err != nil {
		return err
	}
	defer child.Process.Kill()
	if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_ATTACH, uintptr(child.Process.Pid), 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("ptrace attach: %w", e)
	}
	return marker(markerPath)
}

func memfdExec(markerPath string) error {
	fd, err := unix.MemfdCreate("pgtest", 0)
	if err != nil {
		return err
	}
	src, err := os.Open("/bin/busybox")
	if err != nil {
		return err
	}
	if _, err := io.Copy(os.NewFile(uintptr(fd), "memfd"), src); err != nil {
		return err
	}
	argv := []string{"touch", markerPath}
	return execveat(fd, argv)
}

func execveat(fd int, argv []string) error {
	empty, _ := unix.BytePtrFromString("")
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, _ := syscall.SlicePtrFromStrings(nil)
	_, _, e := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return fmt.Errorf("execveat: %w", e)
}

// misc: bpf, process_vm_writev, memfd_create, kill, tgkill, setresgid,
// mount and umount (in a private mount namespace; dir is the mountpoint).
func misc(dir string) error {
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

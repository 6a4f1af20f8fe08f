package trigger

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Exec routes that leave no ordinary file behind, and programs started
// with the network on their standard fds, for the drift and reverse-shell
// rules. Each exec'd copy of this program runs `marker <marker>`, so a
// marker on disk says the copy ran past the kernel's kill.

func init() {
	actions["tmpfile-exec"] = action{"<dir> <marker>: copy this program into an O_TMPFILE file in dir and execveat it", tmpfileExec, 2}
	actions["deleted-exec"] = action{"<path> <marker>: copy this program to path, open it, unlink it and execveat the fd", deletedExec, 2}
	actions["exec-inet-stdio"] = action{"<program> [args]: exec program with an AF_INET socket on fds 0 and 1", execInetStdio, 1}
	actions["dup-fcntl"] = action{": put an AF_INET socket on stdin with close(0) and fcntl(F_DUPFD, 0)", dupFcntl, 0}
}

// copySelf writes this program into the open file f.
func copySelf(f *os.File) error {
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer self.Close()
	_, err = io.Copy(f, self)
	return err
}

// execFD execveats fd (AT_EMPTY_PATH) as `marker <marker>`; it returns
// only on failure.
func execFD(fd int, markerPath string) error {
	empty, _ := unix.BytePtrFromString("")
	argv, err := syscall.SlicePtrFromStrings([]string{os.Args[0], "marker", markerPath})
	if err != nil {
		return err
	}
	envp, _ := syscall.SlicePtrFromStrings(nil)
	_, _, e := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return fmt.Errorf("execveat: %w", e)
}

// readOnly reopens the open file f read-only (through /proc/self/fd, the
// same inode) and closes f: exec refuses a file open for writing.
func readOnly(f *os.File) (int, error) {
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), unix.O_RDONLY, 0)
	f.Close()
	return fd, err
}

func tmpfileExec(args []string) error {
	fd, err := unix.Open(args[0], unix.O_TMPFILE|unix.O_RDWR, 0o755)
	if err != nil {
		return fmt.Errorf("open O_TMPFILE in %s: %w", args[0], err)
	}
	f := os.NewFile(uintptr(fd), "tmpfile")
	if err := copySelf(f); err != nil {
		return err
	}
	ro, err := readOnly(f)
	if err != nil {
		return err
	}
	return execFD(ro, args[1])
}

func deletedExec(args []string) error {
	f, err := os.OpenFile(args[0], os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if err := copySelf(f); err != nil {
		return err
	}
	f.Close()
	fd, err := unix.Open(args[0], unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	if err := os.Remove(args[0]); err != nil {
		return err
	}
	return execFD(fd, args[1])
}

func execInetStdio(args []string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	for _, fd := range []int{0, 1} {
		if err := unix.Dup2(s, fd); err != nil {
			return err
		}
	}
	return syscall.Exec(args[0], args, os.Environ())
}

func dupFcntl([]string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	unix.Close(0)
	fd, err := unix.FcntlInt(uintptr(s), unix.F_DUPFD, 0)
	if err != nil {
		return err
	}
	if fd != 0 {
		return fmt.Errorf("fcntl F_DUPFD gave fd %d, not 0", fd)
	}
	return nil
}

package trigger

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// untouched returns data in a fresh private file mapping that this
// process has never touched: no page table entry exists until the kernel
// copies from it, so a non-faulting read at syscall entry finds nothing.
func untouched(data []byte) (uintptr, error) {
	f, err := os.CreateTemp("", "pg-unfaulted-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return 0, err
	}
	m, err := unix.Mmap(int(f.Fd()), 0, len(data), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return 0, err
	}
	return uintptr(unsafe.Pointer(&m[0])), nil
}

// openUnfaulted opens path (read only) from a string in untouched memory.
func openUnfaulted(args []string) error {
	p, err := untouched(append([]byte(args[0]), 0))
	if err != nil {
		return err
	}
	fd, _, e := unix.Syscall6(unix.SYS_OPENAT, ^uintptr(99) /* AT_FDCWD */, p, unix.O_RDONLY, 0, 0, 0)
	if e != 0 {
		return e
	}
	return unix.Close(int(fd))
}

// sockaddr4 is a struct sockaddr_in for addr:port.
func sockaddr4(args []string) ([]byte, error) {
	a, err := netip.ParseAddr(args[0])
	if err != nil || !a.Is4() {
		return nil, fmt.Errorf("%q is not an IPv4 address", args[0])
	}
	port, err := strconv.Atoi(args[1])
	if err != nil {
		return nil, err
	}
	b := make([]byte, unix.SizeofSockaddrInet4)
	*(*uint16)(unsafe.Pointer(&b[0])) = unix.AF_INET
	b[2], b[3] = byte(port>>8), byte(port)
	ip := a.As4()
	copy(b[4:8], ip[:])
	return b, nil
}

// unfaultedSocket opens a socket of typ and puts the sockaddr for
// addr:port in untouched memory, at p.
func unfaultedSocket(args []string, typ int) (s int, p uintptr, n int, err error) {
	sa, err := sockaddr4(args)
	if err != nil {
		return -1, 0, 0, err
	}
	if p, err = untouched(sa); err != nil {
		return -1, 0, 0, err
	}
	s, err = unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	return s, p, len(sa), err
}

// connectUnfaulted connects a TCP socket to addr:port, the sockaddr in
// untouched memory; refused or unreachable is fine.
func connectUnfaulted(args []string) error {
	s, p, n, err := unfaultedSocket(args, unix.SOCK_STREAM)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	unix.Syscall(unix.SYS_CONNECT, uintptr(s), p, uintptr(n))
	return nil
}

// sendtoUnfaulted sends one UDP datagram to addr:port without connect,
// the sockaddr in untouched memory.
func sendtoUnfaulted(args []string) error {
	s, p, n, err := unfaultedSocket(args, unix.SOCK_DGRAM)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	msg := []byte("x")
	unix.Syscall6(unix.SYS_SENDTO, uintptr(s), uintptr(unsafe.Pointer(&msg[0])), 1, 0, p, uintptr(n))
	return nil
}

// reopen opens path with O_PATH, then reads it again through
// /proc/self/fd/N.
func reopen(args []string) error {
	fd, err := unix.Open(args[0], unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return closeFd(unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0))
}

// openDirfdRead opens name read only relative to an fd of dir.
func openDirfdRead(args []string) error {
	dfd, err := unix.Open(args[0], unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return closeFd(unix.Openat(dfd, args[1], unix.O_RDONLY|unix.O_CLOEXEC, 0))
}

// openHandle opens path through name_to_handle_at and open_by_handle_at
// (the latter needs CAP_DAC_READ_SEARCH: EPERM in a default pod, and
// the attempt is the event).
func openHandle(args []string) error {
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, args[0], 0)
	if err != nil {
		// overlayfs without nfs_export has no handles: the "shocker"
		// escape forges one (inode 2, the root of an ext4 file system)
		h = unix.NewFileHandle(1, []byte{2, 0, 0, 0, 0, 0, 0, 0})
	}
	fd, err := unix.OpenByHandleAt(unix.AT_FDCWD, h, unix.O_RDONLY)
	if err == nil {
		unix.Close(fd)
	}
	return nil
}

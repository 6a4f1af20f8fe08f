package trigger

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// connect runs in a fresh, empty network namespace: nothing leaves it.
func connect(args []string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return err
	}
	switch kind := args[0]; kind {
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

// tcp connects to addr:port. Refused or unreachable is fine (the attempt
// is the event) unless the third argument is "refused": then the connect
// must be refused, which shows it reached a TCP stack with the port closed.
func tcp(args []string) error {
	ip := net.ParseIP(args[0]).To4()
	if ip == nil {
		return fmt.Errorf("%q is not an IPv4 address", args[0])
	}
	port, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(s)
	sa := &unix.SockaddrInet4{Port: port}
	copy(sa.Addr[:], ip)
	err = unix.Connect(s, sa)
	if len(args) > 2 && args[2] == "refused" && err != unix.ECONNREFUSED {
		return fmt.Errorf("connect %s:%d: got %v, want connection refused", ip, port, err)
	}
	return nil
}

func dupSocket([]string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	return unix.Dup2(s, 0)
}

// revshell execs /bin/sh with an inet socket on stdin.
func revshell(args []string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := unix.Dup2(s, 0); err != nil {
		return err
	}
	return syscall.Exec("/bin/sh", []string{"sh", "-c", "touch " + args[0]}, os.Environ())
}

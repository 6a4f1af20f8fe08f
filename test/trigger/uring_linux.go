package trigger

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A minimal io_uring: one submission at a time, waited for, no liburing.

type uringParams struct {
	SqEntries, CqEntries, Flags, SqThreadCPU, SqThreadIdle, Features, WqFd uint32
	Resv                                                                   [3]uint32
	SqOff                                                                  struct {
		Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
		UserAddr                                                        uint64
	}
	CqOff struct {
		Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1 uint32
		UserAddr                                                        uint64
	}
}

// sqe is struct io_uring_sqe (64 bytes), with the fields used here.
type sqe struct {
	Opcode, Flags uint8
	Ioprio        uint16
	Fd            int32
	Off           uint64 // also addr2
	Addr          uint64
	Len           uint32
	OpFlags       uint32 // open_flags, rw_flags…
	UserData      uint64
	_             [24]byte
}

const (
	iouringOpConnect = 16
	iouringOpOpenat  = 18
	iouringOpWrite   = 23
	iouringOffSqes   = 0x10000000
	iouringEnterWait = 1 // IORING_ENTER_GETEVENTS
)

type uring struct {
	fd   int
	ring []byte
	sqes []byte
	p    uringParams
}

func newURing() (*uring, error) {
	u := &uring{}
	u.p.SqEntries = 4 // touch the page (an output field): a fresh heap page reads as unreadable at entry
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&u.p)), 0)
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	u.fd = int(fd)
	var err error
	u.ring, err = unix.Mmap(u.fd, 0, int(u.p.SqOff.Array+u.p.SqEntries*4), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap sq ring: %w", err)
	}
	u.sqes, err = unix.Mmap(u.fd, iouringOffSqes, int(u.p.SqEntries*64), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap sqes: %w", err)
	}
	return u, nil
}

func (u *uring) u32(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&u.ring[off])) }

// submit queues s, enters the kernel and waits for its completion; the
// operation's own result is not looked at (the submission is the event).
func (u *uring) submit(s sqe) error {
	tail := atomic.LoadUint32(u.u32(u.p.SqOff.Tail))
	idx := tail & *u.u32(u.p.SqOff.RingMask)
	*(*sqe)(unsafe.Pointer(&u.sqes[idx*64])) = s
	*u.u32(u.p.SqOff.Array + idx*4) = idx
	atomic.StoreUint32(u.u32(u.p.SqOff.Tail), tail+1)
	n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), 1, 1, iouringEnterWait, 0, 0)
	if e != 0 || n != 1 {
		return fmt.Errorf("io_uring_enter: %d %w", n, e)
	}
	return nil
}

func uringOpen(args []string) error {
	u, err := newURing()
	if err != nil {
		return err
	}
	path, _ := unix.BytePtrFromString(args[0])
	pin(path)
	return u.submit(sqe{Opcode: iouringOpOpenat, Fd: unix.AT_FDCWD, Addr: uint64(uintptr(unsafe.Pointer(path))), OpFlags: unix.O_RDONLY})
}

func uringConnect(args []string) error {
	ip := net.ParseIP(args[0]).To4()
	port, err := strconv.Atoi(args[1])
	if ip == nil || err != nil {
		return fmt.Errorf("want <ipv4> <port>, got %q %q", args[0], args[1])
	}
	u, err := newURing()
	if err != nil {
		return err
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	sa := &unix.RawSockaddrInet4{Family: unix.AF_INET, Port: uint16(port>>8) | uint16(port&0xff)<<8}
	copy(sa.Addr[:], ip)
	pin(sa)
	return u.submit(sqe{Opcode: iouringOpConnect, Fd: int32(s), Addr: uint64(uintptr(unsafe.Pointer(sa))), Off: uint64(unsafe.Sizeof(*sa))})
}

func uringWrite(args []string) error {
	fd, err := unix.Open(args[0], unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	u, err := newURing()
	if err != nil {
		return err
	}
	buf := []byte("pg\n")
	pin(buf)
	return u.submit(sqe{Opcode: iouringOpWrite, Fd: int32(fd), Addr: uint64(uintptr(unsafe.Pointer(&buf[0]))), Len: uint32(len(buf))})
}

// pinned keeps what the kernel reads through a uintptr on the heap (Go
// never moves heap objects; a stack copy could move) and alive.
var pinned []any

func pin(p any) { pinned = append(pinned, p) }

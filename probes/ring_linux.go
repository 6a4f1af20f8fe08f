//go:build linux && amd64

package probes

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring consumes a BPF ring buffer map in place and waits for it through
// the Go runtime's network poller.
//
// cilium/ebpf's ringbuf.Reader waits in a blocking epoll_wait on its own
// thread: every wakeup is a thread leaving a syscall, and the runtime's
// monitor thread hands its P away meanwhile (perf showed sysmon and the
// scheduler above rule evaluation at exec-storm rates). Registered with
// the netpoller, the reader goroutine parks like a socket reader, and an
// idle runtime wakes straight into it. Records are decoded from the
// mapping itself, with no copy, and consumed in batches.
type ring struct {
	file *os.File // a non-blocking dup of the map fd, in the netpoller
	conn syscall.RawConn
	cons *uint64 // consumer position (our page, read-write)
	prod *uint64 // producer position (kernel page, read-only)
	data []byte  // the data pages, mapped twice in a row
	mask uint64
	meta []byte // the consumer page mapping
	rest []byte // the producer page + data mapping
}

// Record header bits (include/uapi/linux/bpf.h).
const (
	ringBusy    = 1 << 31
	ringDiscard = 1 << 30
	ringHdrSize = 8
)

// openRing maps the ring buffer behind fd (size bytes of data) and
// registers it with the netpoller.
func openRing(fd, size int) (*ring, error) {
	page := os.Getpagesize()
	if size <= 0 || size&(size-1) != 0 || size%page != 0 {
		return nil, fmt.Errorf("ring buffer size %d: not a power-of-two number of pages", size)
	}
	meta, err := unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map ring buffer consumer page: %w", err)
	}
	rest, err := unix.Mmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		unix.Munmap(meta)
		return nil, fmt.Errorf("map ring buffer data: %w", err)
	}
	r := &ring{
		cons: (*uint64)(unsafe.Pointer(&meta[0])),
		prod: (*uint64)(unsafe.Pointer(&rest[0])),
		data: rest[page:],
		mask: uint64(size - 1),
		meta: meta,
		rest: rest,
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		r.unmap()
		return nil, fmt.Errorf("dup ring buffer fd: %w", err)
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		r.unmap()
		return nil, fmt.Errorf("ring buffer fd non-blocking: %w", err)
	}
	r.file = os.NewFile(uintptr(dup), "bpf-ringbuf")
	if r.conn, err = r.file.SyscallConn(); err != nil {
		r.close()
		return nil, fmt.Errorf("ring buffer fd: %w", err)
	}
	// A deadline is only accepted for a file in the netpoller: this
	// checks the registration worked (it fails for files epoll refuses).
	if err := r.file.SetReadDeadline(time.Time{}); err != nil {
		r.close()
		return nil, fmt.Errorf("ring buffer fd not pollable: %w", err)
	}
	return r, nil
}

// size is the ring's data size in bytes.
func (r *ring) size() int { return int(r.mask + 1) }

// ready reports whether a committed record waits. A record the kernel
// has reserved but not committed yet does not count: waiting is right
// then, since the commit wakes the reader whose consumer position is at
// that record (the position drain leaves there), and it spares a spin
// while a producer is preempted between reserve and commit.
func (r *ring) ready() bool {
	cons := atomic.LoadUint64(r.cons)
	if atomic.LoadUint64(r.prod) == cons {
		return false
	}
	hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[cons&r.mask])))
	return hdr&ringBusy == 0
}

// drain hands each committed record to fn, in order, and returns how many
// it handed over. raw is only valid during the call. It stops at a record
// the kernel has reserved but not committed yet: the producer will wake
// the reader when it commits (or the straggler deadline finds it).
func (r *ring) drain(fn func(raw []byte)) int {
	n := 0
	cons := atomic.LoadUint64(r.cons)
	for {
		prod := atomic.LoadUint64(r.prod)
		for cons < prod {
			off := cons & r.mask
			// Loading the length atomically orders it after the kernel's
			// commit (an xchg) and before the data reads.
			hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[off])))
			if hdr&ringBusy != 0 {
				atomic.StoreUint64(r.cons, cons)
				return n
			}
			l := uint64(hdr &^ (ringBusy | ringDiscard))
			start := off + ringHdrSize
			cons += (ringHdrSize + l + 7) &^ 7
			if hdr&ringDiscard == 0 {
				fn(r.data[start : start+l])
				n++
			}
			// Release the space as we go, so the kernel can reuse it
			// while a long batch is processed.
			atomic.StoreUint64(r.cons, cons)
		}
		if atomic.LoadUint64(r.prod) == cons {
			return n
		}
	}
}

// wait blocks until the ring has data, the deadline passes
// (os.ErrDeadlineExceeded) or stop is called (an error).
func (r *ring) wait(deadline time.Time) error {
	if err := r.file.SetReadDeadline(deadline); err != nil {
		return err
	}
	return r.conn.Read(func(uintptr) bool {
		// The kernel wakes a waiting reader when it commits a record
		// and the reader had consumed everything before it, so checking
		// after each poller notification cannot miss data.
		return r.ready()
	})
}

// stop makes a waiting (and every later) wait return an error.
func (r *ring) stop() { r.file.Close() }

// close stops waits and unmaps the ring: only once no drain runs.
func (r *ring) close() {
	if r.file != nil {
		r.file.Close()
	}
	r.unmap()
}

func (r *ring) unmap() {
	if r.meta != nil {
		unix.Munmap(r.meta)
		r.meta = nil
	}
	if r.rest != nil {
		unix.Munmap(r.rest)
		r.rest = nil
	}
}

//go:build 386 || amd64

package probes

import (
	"fmt"
	"net/netip"
	"unsafe"
)

// io_uring opcodes (include/uapi/linux/io_uring.h) decoded as the event
// kinds whose rules judge them.
const (
	iouringOpConnect = 16
	iouringOpOpenat  = 18
	iouringOpOpenat2 = 28
)

// The new mount API's syscall numbers (x86_64) and fsconfig's key for
// the source.
const (
	nrOpenTree = 428
	nrFsconfig = 431
	nrFspick   = 433
)

// routeFileArgs decodes the file events whose numbers ride in the flags
// and mode fields: mknod's device, truncate's length.
func routeFileArgs(e *Record, x *probeFileEvent) {
	switch e.Kind {
	case KindMknod:
		e.Dev, e.FileFlags = x.Flags, 0
	case KindTruncate:
		e.Length, e.FileFlags, e.Mode = uint64(x.Mode)<<32|uint64(x.Flags), 0, 0
	}
}

// mountAPIArgs decodes the new mount API's arguments (the strings are in
// place already: fsopen's type in FSType, open_tree's path in Source,
// fspick's in Target, fsconfig's key in Target and value in Source).
func mountAPIArgs(e *Record, a [4]uint64) {
	switch e.Syscall {
	case nrFsconfig:
		// Only the "source" key names a source; other keys keep their
		// value out of Source, where the mount rules look for devices.
		e.Name, e.Target = e.Target, ""
		if e.Name != "source" {
			e.Source = ""
		}
		e.MountFlags, e.FD = a[0], int32(a[1])
	case nrOpenTree, nrFspick:
		e.MountFlags, e.DirFD = a[0], int32(a[1])
	}
}

// decodeURing decodes an io_uring submission: opens become KindOpen and
// connects KindConnect, so the rules of those kinds judge them like the
// syscalls; the rest stay KindURingOp.
func decodeURing(raw []byte, e *Record) error {
	var x probeUringEvent
	if !fixedPart(raw, &x, unsafe.Offsetof(x.Tail)) {
		return fmt.Errorf("decode %s: %w", e.Kind, errShort)
	}
	s, err := tail(raw, unsafe.Offsetof(x.Tail), x.PathLen, x.BaseLen)
	if err != nil {
		return err
	}
	b := blobs(s, x.PathLen, x.BaseLen)
	e.URingOp = uint16(x.Opcode) + 1
	e.FD = x.Fd
	e.FixedFile = x.Fixed != 0
	switch x.Opcode {
	case iouringOpOpenat, iouringOpOpenat2:
		e.Kind = KindOpen
		e.DirFD = x.Fd
		e.FileFlags = x.OpenFlags
		e.RawPath = cstring(b[0])
		e.Path = resolve(b[1], e.RawPath)
	case iouringOpConnect:
		e.Kind = KindConnect
		e.Family = uint16(x.Family)
		e.Port = x.Port
		e.Addr = inetAddr(e.Family, x.Addr)
	default:
		if x.PathLen > 0 {
			e.Path = dentryPath(b[0])
		}
	}
	return nil
}

// inetAddr is the AF_INET or AF_INET6 address in addr (the zero Addr for
// other families).
func inetAddr(family uint16, addr [16]byte) netip.Addr {
	switch family {
	case afInet:
		return netip.AddrFrom4([4]byte(addr[:4]))
	case afInet6:
		return netip.AddrFrom16(addr)
	}
	return netip.Addr{}
}

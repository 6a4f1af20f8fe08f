//go:build 386 || amd64

package probes

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unsafe"
)

var errShort = errors.New("short record")

// decode turns one ring buffer sample into e. It allocates only the
// strings (one backing string per event) and Args.
func decode(raw []byte, e *Record) error {
	var h probeEventHdr
	if !fixedPart(raw, &h, unsafe.Sizeof(h)) {
		return fmt.Errorf("decode header: %w (%d bytes)", errShort, len(raw))
	}
	*e = Record{
		Kind:     Kind(h.Kind),
		Flags:    Flags(h.Flags),
		KTime:    h.Ktime,
		PID:      h.Pid,
		TGID:     h.Tgid,
		PPID:     h.Ppid,
		UID:      h.Uid,
		GID:      h.Gid,
		CgroupID: h.CgroupId,
		Syscall:  h.SyscallNr,
		Comm:     commString(&h.Comm),
	}
	switch e.Kind {
	case KindExec:
		return decodeExec(raw, e)
	case KindOpen:
		return decodeOpen(raw, e)
	case KindUnlink, KindRename, KindLink, KindSymlink, KindChmod, KindMkdir:
		return decodeFile(raw, e)
	case KindConnect, KindSocket:
		return decodeNet(raw, e)
	case KindFork, KindExit, KindDup, KindPtrace, KindVMWrite, KindModule, KindBPF,
		KindMount, KindUmount, KindUnshare, KindSetns, KindSetID, KindMemfd, KindKill:
		return decodeSys(raw, e)
	case KindClone, KindIOURing:
		return decodeSys(raw, e)
	case KindMknod, KindTruncate:
		return decodeFile(raw, e)
	case KindURingOp:
		return decodeURing(raw, e)
	}
	return fmt.Errorf("decode: unknown kind %d", e.Kind)
}

// fixedPart copies the fixed part (n bytes) of a record into x, a bpf2go
// twin of the C struct. Copying (not casting) keeps it independent of the
// record buffer's alignment and of Go's padding after a trailing Tail.
func fixedPart[T any](raw []byte, x *T, n uintptr) bool {
	if uintptr(len(raw)) < n || n > unsafe.Sizeof(*x) {
		return false
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(x)), n), raw[:n])
	return true
}

// tail returns the bytes after a fixed part of size n (the offset of the
// Tail field: Go pads a trailing zero-size field, C does not), checked against
// the lengths the kernel announced.
func tail(raw []byte, n uintptr, lens ...uint16) (string, error) {
	total := 0
	for _, l := range lens {
		total += int(l)
	}
	if len(raw) < int(n)+total {
		return "", fmt.Errorf("decode tail: %w (%d < %d)", errShort, len(raw), int(n)+total)
	}
	return string(raw[n : int(n)+total]), nil
}

// blobs splits s into consecutive pieces of the given lengths.
func blobs(s string, lens ...uint16) []string {
	out := make([]string, len(lens))
	off := 0
	for i, l := range lens {
		out[i] = s[off : off+int(l)]
		off += int(l)
	}
	return out
}

func decodeExec(raw []byte, e *Record) error {
	var x probeExecEvent
	if !fixedPart(raw, &x, unsafe.Offsetof(x.Tail)) {
		return fmt.Errorf("decode exec: %w", errShort)
	}
	s, err := tail(raw, unsafe.Offsetof(x.Tail), x.ExeLen, x.FilenameLen, x.CwdLen, x.ArgsLen)
	if err != nil {
		return err
	}
	b := blobs(s, x.ExeLen, x.FilenameLen, x.CwdLen, x.ArgsLen)
	e.Exe = dentryPath(b[0])
	e.Filename = cstring(b[1])
	e.Cwd = dentryPath(b[2])
	e.Args = splitArgs(b[3])
	e.EUID, e.EGID = x.Euid, x.Egid
	e.Origin, e.CopiedUp = originOf(x.Origin)
	e.ExeDev, e.ExeIno, e.ExeNlink = x.ExeDev, x.ExeIno, x.ExeNlink
	e.StdioInet, e.ArgsTruncated = x.StdioInet, x.ArgsTruncated != 0
	return nil
}

func decodeFile(raw []byte, e *Record) error {
	var x probeFileEvent
	if !fixedPart(raw, &x, unsafe.Offsetof(x.Tail)) {
		return fmt.Errorf("decode %s: %w", e.Kind, errShort)
	}
	s, err := tail(raw, unsafe.Offsetof(x.Tail), x.PathLen, x.BaseLen, x.Path2Len, x.Base2Len)
	if err != nil {
		return err
	}
	b := blobs(s, x.PathLen, x.BaseLen, x.Path2Len, x.Base2Len)
	e.DirFD = x.Dirfd
	e.FileFlags = x.Flags
	e.Mode = x.Mode
	routeFileArgs(e, &x)
	if x.FromFd != 0 {
		e.Path = dentryPath(b[0])
		return nil
	}
	e.RawPath = cstring(b[0])
	e.Path = e.RawPath
	if e.Kind != KindSymlink {
		e.Path = resolve(b[1], e.RawPath)
	}
	if x.Path2Len > 0 {
		e.Path2 = resolve(b[3], cstring(b[2]))
	}
	return nil
}

// viaLSM is VIA_LSM of bpf/exit.h enum report_via: the record was made
// by a BPF-LSM program.
const viaLSM = 1

func decodeOpen(raw []byte, e *Record) error {
	var x probeOpenEvent
	if !fixedPart(raw, &x, unsafe.Offsetof(x.Tail)) {
		return fmt.Errorf("decode open: %w", errShort)
	}
	s, err := tail(raw, unsafe.Offsetof(x.Tail), x.PathLen, x.RawLen, x.BaseLen)
	if err != nil {
		return err
	}
	b := blobs(s, x.PathLen, x.RawLen, x.BaseLen)
	e.DirFD = x.Dirfd
	e.FileFlags = x.Flags
	e.Mode = x.Mode
	e.Ret = x.Ret
	e.ByLSM = x.Via == viaLSM
	e.Dev, e.Ino, e.Layer = x.Dev, x.Ino, Layer(x.Layer)
	if x.Ret >= 0 {
		e.Path = cstring(b[0])
		e.RawPath = cstring(b[1])
		return nil
	}
	e.RawPath = cstring(b[0])
	if e.RawPath != "" {
		e.Path = join(cstring(b[2]), e.RawPath)
	}
	return nil
}

func decodeNet(raw []byte, e *Record) error {
	var x probeNetEvent
	if !fixedPart(raw, &x, unsafe.Offsetof(x.Tail)) {
		return fmt.Errorf("decode %s: %w", e.Kind, errShort)
	}
	s, err := tail(raw, unsafe.Offsetof(x.Tail), x.UnixLen)
	if err != nil {
		return err
	}
	e.Family = uint16(x.Family)
	e.SockType = x.Type
	e.Protocol = x.Protocol
	e.FD = x.Fd
	e.Ret = x.Ret
	e.ByLSM = x.Via == viaLSM
	e.Port = x.Port
	e.Addr = inetAddr(e.Family, x.Addr)
	switch e.Family {
	case afUnix:
		if len(s) > 0 && s[0] == 0 {
			e.UnixPath = "@" + cstring(s[1:])
		} else {
			e.UnixPath = cstring(s)
		}
	}
	return nil
}

func decodeSys(raw []byte, e *Record) error {
	var x probeSysEvent
	if !fixedPart(raw, &x, unsafe.Offsetof(x.Tail)) {
		return fmt.Errorf("decode %s: %w", e.Kind, errShort)
	}
	s, err := tail(raw, unsafe.Offsetof(x.Tail), x.StrLen[:]...)
	if err != nil {
		return err
	}
	b := blobs(s, x.StrLen[:]...)
	a := x.Arg
	switch e.Kind {
	case KindFork:
		e.ChildPID = uint32(a[0])
	case KindExit:
		e.ExitCode = int32(a[0]>>8) & 0xff
		e.ExitSignal = uint32(a[0] & 0x7f)
	case KindDup:
		e.OldFD, e.NewFD = int32(a[0]), int32(a[1])
		e.FileFlags = uint32(a[2])
	case KindPtrace:
		e.Request, e.TargetPID = a[0], int32(a[1])
	case KindVMWrite:
		e.TargetPID = int32(a[0])
	case KindModule:
		e.ModuleFD, e.ModuleLen = int32(a[0]), a[1]
		e.FileFlags = uint32(a[2])
		e.Name = cstring(b[0])
		if e.Syscall == nrInitModule {
			e.ModuleFD = -1
		}
	case KindBPF:
		e.Cmd = a[0]
	case KindMount, KindUmount:
		e.Source, e.Target, e.FSType = cstring(b[0]), cstring(b[1]), cstring(b[2])
		e.MountFlags = a[0]
		if e.Syscall == nrFsmount {
			e.FD, e.MountFlags = int32(a[0]), a[1]
		}
		mountAPIArgs(e, a)
	case KindUnshare:
		e.NSFlags = a[0]
	case KindSetns:
		e.NSFlags, e.FD = a[0], int32(a[1])
	case KindSetID:
		e.IDs = [3]int32{int32(a[0]), int32(a[1]), int32(a[2])}
	case KindMemfd:
		e.Name, e.MemfdFlags = cstring(b[0]), uint32(a[0])
	case KindKill:
		e.TargetPID, e.Signal, e.TGIDArg = int32(a[0]), uint32(a[1]), int32(a[2])
		if a[3] != 0 { // pidfd_send_signal: the pidfd + 1
			e.FD = int32(a[3] - 1)
		}
	case KindClone:
		e.NSFlags = a[0]
	case KindIOURing:
		e.Entries, e.URingFlags = uint32(a[0]), uint32(a[1])
	}
	return nil
}

const (
	afUnix       = 1
	afInet       = 2
	afInet6      = 10
	nrInitModule = 175
	nrFsmount    = 432
)

func commString(c *[16]uint8) string {
	n := 0
	for n < len(c) && c[n] != 0 {
		n++
	}
	return string(c[:n])
}

// cstring returns s up to its first NUL.
func cstring(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// dentryPath turns a kernel path blob (components leaf first, each
// NUL-terminated) into an absolute path.
func dentryPath(blob string) string {
	if blob == "" {
		return "/"
	}
	parts := strings.Split(strings.TrimSuffix(blob, "\x00"), "\x00")
	var sb strings.Builder
	sb.Grow(len(blob) + 1)
	for i := len(parts) - 1; i >= 0; i-- {
		sb.WriteByte('/')
		sb.WriteString(parts[i])
	}
	return sb.String()
}

// resolve joins a relative raw path to the base directory the kernel
// walked (cwd or dirfd, a leaf-first blob), see join.
func resolve(baseBlob, p string) string {
	if strings.HasPrefix(p, "/") {
		return join("", p)
	}
	return join(dentryPath(baseBlob), p)
}

// join is the one place a path the kernel did not resolve (a rename or
// link destination, a refused open) is made canonical as far as strings
// allow: joined with its base directory when relative, then "//", "."
// and ".." removed lexically (symlinks in it stay unresolved).
func join(base, p string) string {
	if !strings.HasPrefix(p, "/") {
		if base == "" {
			base = "/"
		}
		p = base + "/" + p
	}
	return path.Clean(p)
}

func splitArgs(blob string) []string {
	blob = strings.TrimRight(blob, "\x00")
	if blob == "" {
		return nil
	}
	return strings.Split(blob, "\x00")
}

//go:build 386 || amd64

package probes

import (
	"errors"
	"slices"
	"testing"
	"unsafe"
)

// wire builds a ring buffer sample: the fixed part of v, then tail.
func wire[T any](v *T, fixed uintptr, tail string) []byte {
	b := unsafe.Slice((*byte)(unsafe.Pointer(v)), fixed)
	return append(append([]byte(nil), b...), tail...)
}

func TestDecodeFileEventRelative(t *testing.T) {
	x := probeFileEvent{Dirfd: -100, Flags: 0o101, Mode: 0o640}
	x.Hdr.Kind = uint16(KindUnlink)
	x.Hdr.SyscallNr = 263
	copy(x.Hdr.Comm[:], "cat")
	raw, base := "a/../b.txt\x00", "work\x00home\x00" // cwd /home/work, leaf first
	x.PathLen, x.BaseLen = uint16(len(raw)), uint16(len(base))
	var e Record
	if err := decode(wire(&x, unsafe.Offsetof(x.Tail), raw+base), &e); err != nil {
		t.Fatal(err)
	}
	if e.Path != "/home/work/b.txt" || e.RawPath != "a/../b.txt" || e.Comm != "cat" || e.Syscall != 263 {
		t.Errorf("got Path %q RawPath %q Comm %q Syscall %d", e.Path, e.RawPath, e.Comm, e.Syscall)
	}
}

func TestDecodeOpenEvent(t *testing.T) {
	// a successful open: the resolved path (forward) and the raw string
	x := probeOpenEvent{Dirfd: -100, Flags: 0, Ret: 3, Ino: 42, Dev: 7, Layer: uint16(LayerLower)}
	x.Hdr.Kind = uint16(KindOpen)
	resolved, raw := "/etc/shadow\x00", "//etc/./x/../shadow\x00"
	x.PathLen, x.RawLen = uint16(len(resolved)), uint16(len(raw))
	var e Record
	if err := decode(wire(&x, unsafe.Offsetof(x.Tail), resolved+raw), &e); err != nil {
		t.Fatal(err)
	}
	if e.Path != "/etc/shadow" || e.RawPath != "//etc/./x/../shadow" || e.Ret != 3 || e.Ino != 42 || e.Dev != 7 || e.Layer != LayerLower || e.Attempt() {
		t.Errorf("got Path %q RawPath %q Ret %d Ino %d Dev %d Layer %d", e.Path, e.RawPath, e.Ret, e.Ino, e.Dev, e.Layer)
	}
	// a refused attempt: the raw string, joined with its base and cleaned
	x = probeOpenEvent{Dirfd: -100, Ret: -13}
	x.Hdr.Kind = uint16(KindOpen)
	raw, base := "../etc//shadow\x00", "/home/work\x00"
	x.PathLen, x.BaseLen = uint16(len(raw)), uint16(len(base))
	if err := decode(wire(&x, unsafe.Offsetof(x.Tail), raw+base), &e); err != nil {
		t.Fatal(err)
	}
	if e.Path != "/home/etc/shadow" || e.RawPath != "../etc//shadow" || !e.Attempt() {
		t.Errorf("attempt: got Path %q RawPath %q Attempt %v", e.Path, e.RawPath, e.Attempt())
	}
}

// TestDecodeVia: an open or connect made by a BPF-LSM program says so;
// one made at syscall exit does not.
func TestDecodeVia(t *testing.T) {
	o := probeOpenEvent{Via: viaLSM}
	o.Hdr.Kind = uint16(KindOpen)
	path := "/etc/shadow\x00"
	o.PathLen = uint16(len(path))
	var e Record
	if err := decode(wire(&o, unsafe.Offsetof(o.Tail), path), &e); err != nil || !e.ByLSM || e.Attempt() {
		t.Errorf("open via LSM: ByLSM %v Attempt %v err %v", e.ByLSM, e.Attempt(), err)
	}
	n := probeNetEvent{Via: viaLSM, Family: 2, Port: 443}
	n.Hdr.Kind = uint16(KindConnect)
	if err := decode(wire(&n, unsafe.Offsetof(n.Tail), ""), &e); err != nil || !e.ByLSM || e.Port != 443 {
		t.Errorf("connect via LSM: ByLSM %v port %d err %v", e.ByLSM, e.Port, err)
	}
	n.Via = 0
	if err := decode(wire(&n, unsafe.Offsetof(n.Tail), ""), &e); err != nil || e.ByLSM {
		t.Errorf("connect at exit: ByLSM %v err %v", e.ByLSM, err)
	}
}

func TestDecodeExecEvent(t *testing.T) {
	var x probeExecEvent
	x.Hdr.Kind = uint16(KindExec)
	exe, fn, cwd, args := "sh\x00bin\x00", "/bin/sh\x00", "", "sh\x00-c\x00id\x00"
	x.ExeLen, x.FilenameLen, x.CwdLen, x.ArgsLen = uint16(len(exe)), uint16(len(fn)), 0, uint16(len(args))
	var e Record
	if err := decode(wire(&x, unsafe.Offsetof(x.Tail), exe+fn+cwd+args), &e); err != nil {
		t.Fatal(err)
	}
	if e.Exe != "/bin/sh" || e.Filename != "/bin/sh" || e.Cwd != "/" || !slices.Equal(e.Args, []string{"sh", "-c", "id"}) {
		t.Errorf("got Exe %q Filename %q Cwd %q Args %q", e.Exe, e.Filename, e.Cwd, e.Args)
	}
}

func TestDecodeRejectsShortRecords(t *testing.T) {
	var x probeExecEvent
	x.Hdr.Kind = uint16(KindExec)
	x.ExeLen = 100 // announces more than the record holds
	var e Record
	if err := decode(wire(&x, unsafe.Offsetof(x.Tail), "abc"), &e); !errors.Is(err, errShort) {
		t.Errorf("err = %v, want errShort", err)
	}
	if err := decode([]byte{1, 2, 3}, &e); !errors.Is(err, errShort) {
		t.Errorf("err = %v, want errShort", err)
	}
}

func TestKindNames(t *testing.T) {
	for _, k := range Kinds() {
		if got, ok := ParseKind(k.String()); !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, ok)
		}
	}
	if s := KindsOf(KindExec, KindOpen).String(); s != "exec,open" {
		t.Errorf("KindSet.String = %q", s)
	}
	if AllKinds.Has(0) || !AllKinds.Has(KindKill) {
		t.Error("AllKinds must hold every kind and not 0")
	}
}

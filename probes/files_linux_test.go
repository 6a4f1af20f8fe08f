//go:build linux && amd64

package probes

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// realDir is t.TempDir with symlinks resolved, as the kernel reports it.
func realDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func byTrigger(k Kind) func(*Record) bool {
	return func(e *Record) bool { return e.Kind == k && e.Comm == "trigger" }
}

func TestOpenRelativeToCwd(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	dir := realDir(t)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	cg.trigger(t, dir, "open-rel", "sub/../sub/new.txt")
	ev := cg.waitFor(t, "open", func(e *Record) bool { return e.Kind == KindOpen && e.RawPath == "sub/../sub/new.txt" })
	if want := filepath.Join(dir, "sub/new.txt"); ev.Path != want {
		t.Errorf("Path = %q, want %q", ev.Path, want)
	}
	if ev.DirFD != unix.AT_FDCWD || ev.FileFlags&(unix.O_CREAT|unix.O_WRONLY) != unix.O_CREAT|unix.O_WRONLY || ev.Mode != 0o640 {
		t.Errorf("DirFD %d flags %#o mode %#o, want AT_FDCWD, O_CREAT|O_WRONLY, 0640", ev.DirFD, ev.FileFlags, ev.Mode)
	}
	if ev.Syscall != unix.SYS_OPENAT {
		t.Errorf("Syscall = %d, want openat", ev.Syscall)
	}
}

func TestOpenRelativeToDirfd(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	dir := realDir(t)
	cg.trigger(t, "/", "open-dirfd", dir, "viafd")
	ev := cg.waitFor(t, "openat(dirfd)", func(e *Record) bool { return e.Kind == KindOpen && e.RawPath == "viafd" })
	if want := filepath.Join(dir, "viafd"); ev.Path != want || ev.DirFD < 0 {
		t.Errorf("Path %q DirFD %d, want %q and a real fd", ev.Path, ev.DirFD, want)
	}
	if ev.FileFlags&unix.O_RDWR == 0 || ev.Mode != 0o600 {
		t.Errorf("flags %#o mode %#o, want O_RDWR and 0600", ev.FileFlags, ev.Mode)
	}
}

func TestOpenat2AndCreat(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindOpen), 0)
	dir := realDir(t)
	cg.trigger(t, dir, "creat", "made")
	ev := cg.waitFor(t, "creat", func(e *Record) bool { return e.Kind == KindOpen && e.Syscall == unix.SYS_CREAT })
	if ev.Path != filepath.Join(dir, "made") || ev.Mode != 0o604 || ev.FileFlags&unix.O_CREAT == 0 {
		t.Errorf("creat: Path %q mode %#o flags %#o", ev.Path, ev.Mode, ev.FileFlags)
	}
	cg.trigger(t, dir, "openat2", "/etc/hostname")
	ev = cg.waitFor(t, "openat2", func(e *Record) bool { return e.Kind == KindOpen && e.Syscall == unix.SYS_OPENAT2 })
	if ev.Path != "/etc/hostname" || ev.FileFlags&unix.O_CLOEXEC == 0 {
		t.Errorf("openat2: Path %q flags %#o, want /etc/hostname with O_CLOEXEC", ev.Path, ev.FileFlags)
	}
}

func TestFileSyscalls(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindMkdir, KindRename, KindLink, KindSymlink, KindChmod, KindUnlink), 0)
	dir := realDir(t)
	cg.trigger(t, dir, "files")
	in := func(p string) string { return filepath.Join(dir, p) }

	if ev := cg.waitFor(t, "mkdir", byTrigger(KindMkdir)); ev.Path != in("d") || ev.Mode != 0o750 {
		t.Errorf("mkdir: Path %q mode %#o", ev.Path, ev.Mode)
	}
	if ev := cg.waitFor(t, "rename", byTrigger(KindRename)); ev.Path != in("d/a") || ev.Path2 != in("d/b") {
		t.Errorf("rename: %q -> %q", ev.Path, ev.Path2)
	}
	if ev := cg.waitFor(t, "link", byTrigger(KindLink)); ev.Path != in("d/b") || ev.Path2 != in("d/hard") {
		t.Errorf("link: %q -> %q", ev.Path, ev.Path2)
	}
	if ev := cg.waitFor(t, "symlink", byTrigger(KindSymlink)); ev.Path != "/etc/hostname" || ev.Path2 != in("d/sym") {
		t.Errorf("symlink: target %q link %q", ev.Path, ev.Path2)
	}
	if ev := cg.waitFor(t, "fchmodat", byTrigger(KindChmod)); ev.Path != in("d/b") || ev.Mode != 0o4755 {
		t.Errorf("fchmodat: Path %q mode %#o", ev.Path, ev.Mode)
	}
	if ev := cg.waitFor(t, "fchmod", byTrigger(KindChmod)); ev.Path != in("d/hard") || ev.Mode != 0o640 || ev.Syscall != unix.SYS_FCHMOD {
		t.Errorf("fchmod: Path %q (resolved from the fd) mode %#o syscall %d", ev.Path, ev.Mode, ev.Syscall)
	}
	if ev := cg.waitFor(t, "unlink", byTrigger(KindUnlink)); ev.Path != in("d/sym") {
		t.Errorf("unlink: Path %q", ev.Path)
	}
}

func TestConnect(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindConnect, KindSocket), 0)

	cg.trigger(t, "", "connect", "inet")
	sock := cg.waitFor(t, "socket", byTrigger(KindSocket))
	if sock.Family != unix.AF_INET || sock.SockType&0xf != unix.SOCK_STREAM {
		t.Errorf("socket: family %d type %d", sock.Family, sock.SockType)
	}
	ev := cg.waitFor(t, "connect", byTrigger(KindConnect))
	if ev.Family != unix.AF_INET || ev.Addr != netip.MustParseAddr("10.1.2.3") || ev.Port != 4242 {
		t.Errorf("connect: family %d %v:%d, want 10.1.2.3:4242", ev.Family, ev.Addr, ev.Port)
	}
	if ev.SockType != unix.SOCK_STREAM || ev.Protocol != unix.IPPROTO_TCP {
		t.Errorf("connect: type %d proto %d, want stream/tcp", ev.SockType, ev.Protocol)
	}

	cg.trigger(t, "", "connect", "inet6")
	ev = cg.waitFor(t, "connect6", byTrigger(KindConnect))
	if ev.Family != unix.AF_INET6 || ev.Addr != netip.MustParseAddr("fd00::1") || ev.Port != 4243 || ev.SockType != unix.SOCK_DGRAM {
		t.Errorf("connect6: family %d [%v]:%d type %d", ev.Family, ev.Addr, ev.Port, ev.SockType)
	}

	unixPath := filepath.Join(t.TempDir(), "nobody.sock")
	cg.trigger(t, "", "connect", unixPath)
	ev = cg.waitFor(t, "connect unix", byTrigger(KindConnect))
	if ev.Family != unix.AF_UNIX || ev.UnixPath != unixPath {
		t.Errorf("connect unix: family %d path %q, want %q", ev.Family, ev.UnixPath, unixPath)
	}
}

// TestKindMask: kinds outside a cgroup's KindSet never arrive, and
// updating the map re-arms without reloading.
func TestKindMask(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindMkdir), 0)
	cg.trigger(t, realDir(t), "files") // mkdir plus open, rename, link...
	if err := r.p.SetWatched(cg.ID, KindsOf(KindMkdir, KindOpen), 0); err != nil {
		t.Fatal(err)
	}
	cg.trigger(t, realDir(t), "open-rel", "barrier")
	kinds := map[Kind]int{}
	cg.waitFor(t, "open after re-arm", func(e *Record) bool {
		kinds[e.Kind]++
		return e.Kind == KindOpen && e.RawPath == "barrier"
	})
	if kinds[KindMkdir] != 1 {
		t.Errorf("mkdir events = %d, want 1", kinds[KindMkdir])
	}
	for k, n := range kinds {
		if k != KindMkdir && k != KindOpen {
			t.Errorf("%d unwanted %s events", n, k)
		}
	}
}

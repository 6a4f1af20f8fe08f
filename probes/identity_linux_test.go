//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestExecOrigin: the kernel tells where the executed file comes from,
// on the file it loaded, and reports its device and inode.
func TestExecOrigin(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec), 0)
	merged := overlay(t)
	// copy-up: chmod of an image (lower) file copies it to the upper layer
	if err := os.Chmod(filepath.Join(merged, "bb-lower"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpfs := t.TempDir()
	if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, "size=16m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(tmpfs, unix.MNT_DETACH) })
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmpfs, "bb-tmpfs"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path     string
		origin   Origin
		copiedUp bool
	}{
		{filepath.Join(merged, "bb-upper"), OriginUpper, false},
		{filepath.Join(merged, "bb-lower"), OriginUpper, true},
		{filepath.Join(tmpfs, "bb-tmpfs"), OriginTmpfs, false},
	}
	for _, c := range cases {
		cg.run(t, &exec.Cmd{Path: c.path, Args: []string{"true"}})
		ev := cg.waitFor(t, "exec of "+c.path, func(e *Record) bool { return e.Kind == KindExec && e.Exe == c.path })
		var st unix.Stat_t
		if err := unix.Stat(c.path, &st); err != nil {
			t.Fatal(err)
		}
		if ev.Origin != c.origin || ev.CopiedUp != c.copiedUp || ev.ExeIno != st.Ino || ev.ExeNlink != 1 {
			t.Errorf("%s: origin %v copied-up %v inode %d nlink %d, want %v %v %d 1",
				c.path, ev.Origin, ev.CopiedUp, ev.ExeIno, ev.ExeNlink, c.origin, c.copiedUp, st.Ino)
		}
	}
}

// TestKillDriftEveryRoute: under KillDrift, a file with no links (an
// O_TMPFILE file, a file deleted before its execveat), a tmpfs file and a
// memfd are killed at exec before they run, like an upper-layer file.
func TestKillDriftEveryRoute(t *testing.T) {
	r := sharedProbes(t)
	tmpfs := t.TempDir()
	if err := unix.Mount("tmpfs", tmpfs, "tmpfs", 0, "size=64m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(tmpfs, unix.MNT_DETACH) })
	bb, _ := os.ReadFile(triggerBin)
	if err := os.WriteFile(filepath.Join(tmpfs, "trigger"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		args   func(marker string) []string
		origin Origin
	}{
		{"O_TMPFILE", func(m string) []string { return []string{triggerBin, "tmpfile-exec", dir, m} }, OriginTmpfile},
		{"deleted", func(m string) []string { return []string{triggerBin, "deleted-exec", filepath.Join(dir, "gone"), m} }, OriginTmpfile},
		{"memfd", func(m string) []string { return []string{triggerBin, "memfd-exec", m} }, OriginMemfd},
		{"tmpfs", func(m string) []string { return []string{filepath.Join(tmpfs, "trigger"), "marker", m} }, OriginTmpfs},
	} {
		cg := r.newCgroup(t, KindsOf(KindExec), KillDrift)
		marker := filepath.Join(t.TempDir(), "marker")
		args := c.args(marker)
		st := cg.run(t, &exec.Cmd{Path: args[0], Args: args})
		if !killedBySIGKILL(st) {
			t.Errorf("%s: process ended with %v, want killed by SIGKILL", c.name, st)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("%s: marker written: the file ran past the kill", c.name)
		}
		ev := cg.waitFor(t, c.name+" exec", func(e *Record) bool { return e.Kind == KindExec && e.Killed() })
		if ev.Origin != c.origin {
			t.Errorf("%s: killed exec of %s has origin %v, want %v", c.name, ev.Exe, ev.Origin, c.origin)
		}
	}
}

// TestKillReverseShellAnyName: a program that is not a shell by any name,
// started with an inet socket on stdin and stdout, is killed at exec; the
// same program with a pipe on stdin runs.
func TestKillReverseShellAnyName(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec), KillReverseShell)
	renamed := filepath.Join(t.TempDir(), "innocent")
	bb, _ := os.ReadFile(triggerBin)
	if err := os.WriteFile(renamed, bb, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "marker")
	st := cg.run(t, exec.Command(triggerBin, "exec-inet-stdio", renamed, "marker", marker))
	if !killedBySIGKILL(st) {
		t.Errorf("program with inet stdio ended with %v, want killed by SIGKILL", st)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("marker written: the program ran past the kill")
	}
	ev := cg.waitFor(t, "killed exec", func(e *Record) bool { return e.Kind == KindExec && e.Killed() })
	if ev.Comm != "innocent" || ev.StdioInet&3 != 3 {
		t.Errorf("comm %q stdio %#b, want innocent with stdin and stdout inet", ev.Comm, ev.StdioInet)
	}
	// near miss: a pipe on stdin
	cmd := exec.Command(renamed, "marker", marker)
	cmd.Stdin, _ = os.Open(os.DevNull)
	if st := cg.run(t, cmd); !st.Success() {
		t.Errorf("program with ordinary stdio: %v, want success", st)
	}
}

// TestDupFcntlOntoStdin: close(0) + fcntl(F_DUPFD, 0) of an inet socket
// is reported as a dup onto stdin.
func TestDupFcntlOntoStdin(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindDup), 0)
	cg.trigger(t, "", "dup-fcntl")
	ev := cg.waitFor(t, "dup by fcntl", func(e *Record) bool { return e.Kind == KindDup && e.Syscall == unix.SYS_FCNTL })
	if ev.NewFD != 0 || ev.Flags&FlagInetStdio == 0 {
		t.Errorf("dup: syscall %d new fd %d flags %#x, want fcntl onto 0 of an inet socket", ev.Syscall, ev.NewFD, ev.Flags)
	}
}

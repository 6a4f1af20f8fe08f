//go:build linux && amd64

package probes

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestHostMonitoring: with Options.HostMonitoring a host process is seen
// through the host default; SetHost(0, 0) turns it off again.
func TestHostMonitoring(t *testing.T) {
	needRoot(t)
	p, err := Load(Options{HostMonitoring: true, ForcePerfBuffer: perfMode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	hostExec := func(arg string) {
		if err := exec.Command("/bin/busybox", "true", arg).Run(); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(arg string) *Record {
		deadline := time.After(10 * time.Second)
		for {
			select {
			case ev := <-p.Events():
				if ev.Kind == KindExec && len(ev.Args) == 3 && ev.Args[2] == arg {
					return ev
				}
			case <-deadline:
				return nil
			}
		}
	}
	hostExec("host-1")
	ev := wait("host-1")
	if ev == nil {
		t.Fatal("host exec not seen with host monitoring on")
	}
	if ev.PPID != uint32(os.Getpid()) {
		t.Errorf("PPID = %d, want %d", ev.PPID, os.Getpid())
	}

	if err := p.SetHost(KindsOf(KindOpen), 0); err != nil {
		t.Fatal(err)
	}
	// exec is not in the host kinds any more; the open that follows it
	// comes through the same ordered ring buffer
	hostExec("host-2")
	marker := "/proc/self/status"
	if _, err := os.ReadFile(marker); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case ev := <-p.Events():
			if ev.Kind == KindExec && len(ev.Args) == 3 && ev.Args[2] == "host-2" {
				t.Fatalf("exec event with host kinds = open: %q", ev.Args)
			}
			// judged on the opened file: /proc/self resolved
			seen = ev.Kind == KindOpen && ev.TGID == uint32(os.Getpid()) && ev.RawPath == marker &&
				ev.Path == "/proc/"+strconv.Itoa(os.Getpid())+"/status"
		case <-deadline:
			t.Fatal("host open not seen")
		}
	}
}

// TestExecOnTTY: a process whose stdin is a pseudo terminal is flagged.
func TestExecOnTTY(t *testing.T) {
	r := sharedProbes(t)
	cg := r.newCgroup(t, KindsOf(KindExec), 0)
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo terminals: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()
	cmd := exec.Command("/bin/busybox", "true")
	cmd.Stdin = pts
	cg.run(t, cmd)
	ev := cg.waitFor(t, "exec", isKind(KindExec))
	if ev.Flags&FlagTTY == 0 || ev.Flags&FlagStdinSock != 0 {
		t.Errorf("Flags = %#x, want TTY and no socket", ev.Flags)
	}
}

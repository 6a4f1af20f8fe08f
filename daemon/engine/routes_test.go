package engine

import (
	"strings"
	"testing"

	"github.com/podguard/podguard/probes"
)

// mknod is a mknod event of pid for path with mode and device major:minor
// (encoded as the syscall takes it).
func mknod(pid uint32, path string, mode, major, minor uint32) *probes.Record {
	return ev(probes.KindMknod, pid, func(e *probes.Record) {
		e.Path, e.Mode, e.Dev = path, mode, (minor&0xff)|(major&0xfff)<<8|(minor&^0xff)<<12
	})
}

// TestRouteVariants: each route to an effect raises the rule that judges
// the effect, and its harmless neighbour raises nothing.
func TestRouteVariants(t *testing.T) {
	const podguardPID = 7 // newWorld's Self.PID
	cases := []struct {
		name string
		ev   *probes.Record
		want string // the rules raised, comma separated
	}{
		{"clone CLONE_NEWUSER", ev(probes.KindClone, 100, func(e *probes.Record) { e.Syscall, e.NSFlags = 56, cloneNewUser|0x11 }), "namespace-escape"},
		{"clone3 CLONE_NEWNET", ev(probes.KindClone, 100, func(e *probes.Record) { e.Syscall, e.NSFlags = 435, cloneNewNet }), "namespace-escape"},
		{"clone3 clone_args unreadable", ev(probes.KindClone, 100, func(e *probes.Record) { e.Syscall, e.Flags = 435, probes.FlagUnreadable }), "namespace-escape"},
		{"clone without namespace flags", ev(probes.KindClone, 100, func(e *probes.Record) { e.Syscall, e.NSFlags = 56, 0x11 }), ""},
		{"fsopen proc", ev(probes.KindMount, 100, func(e *probes.Record) { e.Syscall, e.FSType = 430, "proc" }), "mount-in-container"},
		{"fsopen tmpfs", ev(probes.KindMount, 100, func(e *probes.Record) { e.Syscall, e.FSType = 430, "tmpfs" }), ""},
		{"fsconfig source /dev/vda", ev(probes.KindMount, 100, func(e *probes.Record) { e.Syscall, e.Name, e.Source = 431, "source", "/dev/vda" }), "mount-in-container"},
		{"open_tree clone of /dev/vda", ev(probes.KindMount, 100, func(e *probes.Record) { e.Syscall, e.Source, e.MountFlags = 428, "/dev/vda", openTreeClone }), "mount-in-container"},
		{"open_tree of /dev/vda without clone", ev(probes.KindMount, 100, func(e *probes.Record) { e.Syscall, e.Source = 428, "/dev/vda" }), ""},
		{"mknod char /dev/mem", mknod(100, "/tmp/mem", sIFCHR|0o600, 1, 1), "device-node-created"},
		{"mknod char with a large minor", mknod(100, "/tmp/x", sIFCHR|0o600, 1, 300), "device-node-created"},
		{"mknod char /dev/null", mknod(100, "/tmp/null", sIFCHR|0o666, 1, 3), ""},
		{"truncate of a log", ev(probes.KindTruncate, 100, func(e *probes.Record) { e.Path = "/var/log/auth.log" }), "clear-logs"},
		{"ftruncate of shell history", ev(probes.KindTruncate, 100, func(e *probes.Record) { e.Path = "/root/.ash_history" }), "clear-history"},
		{"ftruncate of /etc/passwd", ev(probes.KindTruncate, 100, func(e *probes.Record) { e.Path = "/etc/passwd" }), "account-manipulation,write-below-etc"},
		{"truncate of podguard's config", ev(probes.KindTruncate, 100, func(e *probes.Record) { e.Path = "/host/etc/podguard/config.toml" }), "podguard-tamper"},
		{"ftruncate of a data file", ev(probes.KindTruncate, 100, func(e *probes.Record) { e.Path = "/data/db.sqlite" }), ""},
		{"rt_sigqueueinfo to podguard", ev(probes.KindKill, 100, func(e *probes.Record) { e.Syscall, e.TargetPID, e.Signal = 129, podguardPID, 9 }), "podguard-tamper"},
		{"rt_tgsigqueueinfo to a podguard thread", ev(probes.KindKill, 100, func(e *probes.Record) { e.Syscall, e.TargetPID, e.TGIDArg, e.Signal = 297, 9999, podguardPID, 15 }), "podguard-tamper"},
		{"tgkill to a podguard thread", ev(probes.KindKill, 100, func(e *probes.Record) { e.Syscall, e.TargetPID, e.TGIDArg, e.Signal = 234, 9999, podguardPID, 9 }), "podguard-tamper"},
		{"pidfd_send_signal to podguard", ev(probes.KindKill, 100, func(e *probes.Record) { e.Syscall, e.TargetPID, e.FD, e.Signal = 424, podguardPID, 3, 9 }), "podguard-tamper"},
		{"pidfd_send_signal probe (signal 0)", ev(probes.KindKill, 100, func(e *probes.Record) { e.Syscall, e.TargetPID, e.Signal = 424, podguardPID, 0 }), ""},
		{"pidfd_send_signal to own child", ev(probes.KindKill, 100, func(e *probes.Record) { e.Syscall, e.TargetPID, e.Signal = 424, 200, 15 }), ""},
		{"io_uring OPENAT of /etc/shadow", ev(probes.KindOpen, 100, func(e *probes.Record) { e.URingOp, e.Path = 18+1, "/etc/shadow" }), "shadow-file-read"},
		{"io_uring write", ev(probes.KindURingOp, 100, func(e *probes.Record) { e.URingOp, e.FD, e.Path = 23+1, 5, "/tmp/x" }), "io-uring-in-container"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(newWorld(t).handle(c.ev), ","); got != c.want {
				t.Errorf("rules %q, want %q", got, c.want)
			}
		})
	}
}

func TestRouteDetails(t *testing.T) {
	w := newWorld(t)
	ms := w.e.Handle(ev(probes.KindClone, 100, func(e *probes.Record) { e.Syscall, e.NSFlags = 435, cloneNewUser|cloneNewNS }), nil)
	if len(ms) != 1 || ms[0].Details["syscall"] != "clone3" || ms[0].Details["flags"] != "CLONE_NEWNS|CLONE_NEWUSER" {
		t.Errorf("clone3: %+v", ms)
	}
	ms = w.e.Handle(mknod(100, "/tmp/sda", sIFBLK|0o600, 8, 0), nil)
	if len(ms) != 1 || ms[0].Details["type"] != "block" || ms[0].Details["major"] != uint32(8) || ms[0].Details["path"] != "/tmp/sda" {
		t.Errorf("mknod: %+v", ms)
	}
	ms = w.e.Handle(ev(probes.KindMount, 100, func(e *probes.Record) { e.Syscall, e.FSType = 430, "sysfs" }), nil)
	if len(ms) != 1 || ms[0].Details["syscall"] != "fsopen" || ms[0].Details["fstype"] != "sysfs" {
		t.Errorf("fsopen: %+v", ms)
	}
}

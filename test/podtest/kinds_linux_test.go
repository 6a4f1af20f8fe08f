//go:build linux && amd64

package podtest

import (
	"os"
	"testing"

	"github.com/podguard/podguard/probes"
	"github.com/podguard/podguard/test/node"
	"github.com/podguard/podguard/test/testbin"
)

// TestPodEveryKind triggers every event kind from inside a real pod's
// container (a static trigger binary copied into its root file system,
// busybox for the rest) and checks the decoded fields as the container
// sees them.
func TestPodEveryKind(t *testing.T) {
	n := node.Start(t)
	pod := n.CreatePod(t, node.PodSpec{Name: "kinds", Namespace: "probes",
		Containers: []node.ContainerSpec{{Name: "app"}}})
	data, err := os.ReadFile(testbin.Build(t, testbin.Trigger))
	if err != nil {
		t.Fatal(err)
	}
	pod.WriteFile(t, "app", "/trigger", data, 0o755)

	p, err := probes.Load(probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cg := pod.CgroupID("app")
	if err := p.SetWatched(cg, probes.AllKinds, 0); err != nil {
		t.Fatal(err)
	}
	c := collect(p, cg)

	run := func(cmd ...string) {
		t.Helper()
		if _, stderr, code := pod.ExecOutput(t, "app", cmd...); code != 0 {
			t.Logf("%v: exit %d %s (the syscalls before the failure still count)", cmd, code, stderr)
		}
	}
	run("sh", "-c", "mkdir -p /tmp/k && cd /tmp/k && /trigger files")
	run("/trigger", "misc", "/tmp/m")
	run("/trigger", "ptrace", "/tmp/ptraced")
	run("/trigger", "module", "/tmp/moduled")
	run("/trigger", "dup-socket")
	run("sh", "-c", "nc -w 1 127.0.0.1 9 </dev/null; true")
	run("su", "nobody", "-s", "/bin/true")
	run("sh", "-c", "mkdir -p /mnt/p && mount -t proc proc /mnt/p; umount /mnt/p; true")
	run("sh", "-c", "nsenter -t 1 -u true; true")
	// the other routes (test/trigger/routes_linux.go)
	run("/trigger", "clone-ns", "/tmp/cloned", "then", "mknod", "/tmp", "then", "ftruncate", "/tmp/t", "then", "io-uring-write", "/tmp/w")

	checks := []struct {
		what  string
		match func(*probes.Record) bool
	}{
		{"exec of the trigger from the upper layer", func(e *probes.Record) bool {
			return e.Kind == probes.KindExec && e.Exe == "/trigger" && e.Flags&probes.FlagUpper != 0
		}},
		{"fork", func(e *probes.Record) bool { return e.Kind == probes.KindFork && e.ChildPID != 0 }},
		{"exit", func(e *probes.Record) bool { return e.Kind == probes.KindExit }},
		{"mkdir d", func(e *probes.Record) bool { return e.Kind == probes.KindMkdir && e.Path == "/tmp/k/d" }},
		{"open d/a with O_CREAT", func(e *probes.Record) bool {
			return e.Kind == probes.KindOpen && e.Path == "/tmp/k/d/a" && e.FileFlags&0x40 != 0
		}},
		{"rename d/a to d/b", func(e *probes.Record) bool {
			return e.Kind == probes.KindRename && e.Path == "/tmp/k/d/a" && e.Path2 == "/tmp/k/d/b"
		}},
		{"link", func(e *probes.Record) bool { return e.Kind == probes.KindLink && e.Path2 == "/tmp/k/d/hard" }},
		{"symlink", func(e *probes.Record) bool {
			return e.Kind == probes.KindSymlink && e.Path == "/etc/hostname" && e.Path2 == "/tmp/k/d/sym"
		}},
		{"chmod 4755", func(e *probes.Record) bool {
			return e.Kind == probes.KindChmod && e.Path == "/tmp/k/d/b" && e.Mode == 0o4755
		}},
		{"unlink", func(e *probes.Record) bool { return e.Kind == probes.KindUnlink && e.Path == "/tmp/k/d/sym" }},
		{"bpf", func(e *probes.Record) bool { return e.Kind == probes.KindBPF && e.Cmd == 0 }},
		// Target pids are as the caller passed them: in the pod's pid
		// namespace, not the host's.
		{"process_vm_writev", func(e *probes.Record) bool {
			return e.Kind == probes.KindVMWrite && e.TargetPID > 0 && e.TargetPID != int32(e.TGID)
		}},
		{"memfd_create", func(e *probes.Record) bool { return e.Kind == probes.KindMemfd && e.Name == "pg-misc" }},
		{"kill", func(e *probes.Record) bool { return e.Kind == probes.KindKill && e.TargetPID > 0 }},
		{"unshare", func(e *probes.Record) bool { return e.Kind == probes.KindUnshare && e.NSFlags == 0x20000 }},
		{"ptrace attach", func(e *probes.Record) bool { return e.Kind == probes.KindPtrace && e.Request == 16 && e.TargetPID > 0 }},
		{"module load", func(e *probes.Record) bool { return e.Kind == probes.KindModule }},
		{"dup of a socket onto stdin", func(e *probes.Record) bool {
			return e.Kind == probes.KindDup && e.NewFD == 0 && e.Flags&probes.FlagInetStdio != 0
		}},
		{"socket", func(e *probes.Record) bool { return e.Kind == probes.KindSocket && e.Family == 2 }},
		{"connect to 127.0.0.1:9", func(e *probes.Record) bool {
			return e.Kind == probes.KindConnect && e.Addr.String() == "127.0.0.1" && e.Port == 9
		}},
		{"setuid to nobody", func(e *probes.Record) bool { return e.Kind == probes.KindSetID && e.IDs[0] == 65534 }},
		{"mount proc", func(e *probes.Record) bool {
			return e.Kind == probes.KindMount && e.FSType == "proc" && e.Target == "/mnt/p"
		}},
		{"umount", func(e *probes.Record) bool { return e.Kind == probes.KindUmount && e.Target == "/mnt/p" }},
		{"setns", func(e *probes.Record) bool { return e.Kind == probes.KindSetns }},
		{"clone with namespace flags", func(e *probes.Record) bool { return e.Kind == probes.KindClone && e.NSFlags&0x10000000 != 0 }},
		{"mknod", func(e *probes.Record) bool { return e.Kind == probes.KindMknod && e.Path == "/tmp/pg-blk" }},
		{"ftruncate", func(e *probes.Record) bool { return e.Kind == probes.KindTruncate && e.Path == "/tmp/t" }},
		{"io_uring write", func(e *probes.Record) bool { return e.Kind == probes.KindURingOp && e.Path == "/tmp/w" }},
	}
	for _, ch := range checks {
		c.waitFor(t, ch.what, ch.match)
	}
	seen := map[probes.Kind]bool{}
	for _, e := range c.all() {
		seen[e.Kind] = true
	}
	for _, k := range probes.Kinds() {
		// events_lost is made by the reader from loss counters (its own
		// tests flood a pod for it), not by a syscall
		if !seen[k] && k != probes.KindEventsLost {
			t.Errorf("no %s event from the pod", k)
		}
	}
}

//go:build linux && amd64

package podtest

import (
	"sync"
	"testing"
	"time"

	"github.com/podguard/podguard/probes"
	"github.com/podguard/podguard/test/node"
)

// collector keeps the events of one cgroup from a Probes instance.
type collector struct {
	mu     sync.Mutex
	events []*probes.Record
	cg     uint64
}

func collect(p *probes.Probes, cg uint64) *collector {
	c := &collector{cg: cg}
	go func() {
		for ev := range p.Events() {
			if ev.CgroupID == cg {
				c.mu.Lock()
				c.events = append(c.events, ev)
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// waitFor returns the first event matching match (10 s deadline).
func (c *collector) waitFor(t *testing.T, what string, match func(*probes.Record) bool) *probes.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, ev := range c.events {
			if match(ev) {
				c.mu.Unlock()
				return ev
			}
		}
		c.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s event from cgroup %d", what, c.cg)
	return nil
}

func (c *collector) all() []*probes.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*probes.Record(nil), c.events...)
}

// TestPodDrift: in a real container, a binary copied into the container
// (overlayfs upper layer) is flagged and, once armed, killed at exec,
// while the image's own binaries keep working. Paths are as the
// container sees them.
func TestPodDrift(t *testing.T) {
	n := node.Start(t)
	pod := n.CreatePod(t, node.PodSpec{Name: "drift", Namespace: "probes",
		Containers: []node.ContainerSpec{{Name: "app"}}})
	p, err := probes.Load(probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cg := pod.CgroupID("app")
	if err := p.SetWatched(cg, probes.KindsOf(probes.KindExec, probes.KindOpen, probes.KindSetns, probes.KindUnshare), 0); err != nil {
		t.Fatal(err)
	}
	c := collect(p, cg)

	if _, code := pod.Exec(t, "app", "cp", "/bin/busybox", "/echo"); code != 0 {
		t.Fatalf("cp exit %d", code)
	}
	image := c.waitFor(t, "exec of cp", func(e *probes.Record) bool {
		return e.Kind == probes.KindExec && len(e.Args) > 0 && e.Args[0] == "cp"
	})
	if image.Exe != "/bin/busybox" || image.Flags&probes.FlagUpper != 0 {
		t.Errorf("image binary: Exe %q flags %#x, want /bin/busybox without FlagUpper", image.Exe, image.Flags)
	}
	c.waitFor(t, "open of the copy", func(e *probes.Record) bool {
		return e.Kind == probes.KindOpen && e.Path == "/echo"
	})

	if out, code := pod.Exec(t, "app", "/echo", "drifted"); code != 0 || out != "drifted\n" {
		t.Fatalf("unarmed drifted exec: %q exit %d", out, code)
	}
	drift := c.waitFor(t, "exec of /echo", func(e *probes.Record) bool {
		return e.Kind == probes.KindExec && e.Exe == "/echo"
	})
	if drift.Flags&probes.FlagUpper == 0 || drift.Killed() {
		t.Errorf("drifted exec flags %#x, want FlagUpper and not killed", drift.Flags)
	}

	if err := p.SetWatched(cg, probes.KindsOf(probes.KindExec), probes.KillDrift); err != nil {
		t.Fatal(err)
	}
	if out, code := pod.Exec(t, "app", "/echo", "again"); code != 137 || out != "" {
		t.Errorf("armed drifted exec: %q exit %d, want no output and 137 (SIGKILL)", out, code)
	}
	c.waitFor(t, "killed exec", func(e *probes.Record) bool {
		return e.Kind == probes.KindExec && e.Exe == "/echo" && e.Killed()
	})
	if out, code := pod.Exec(t, "app", "echo", "image"); code != 0 || out != "image\n" {
		t.Errorf("image binary while armed: %q exit %d, want success", out, code)
	}
	for _, e := range c.all() {
		if e.Kind == probes.KindSetns || e.Kind == probes.KindUnshare {
			t.Logf("note: %s in the container cgroup during CRI exec: comm %q flags %#x", e.Kind, e.Comm, e.NSFlags)
		}
	}
}

// TestPodReverseShell: `nc -e /bin/sh` from a container to a listener in
// the same pod (the pod's own network namespace) execs a shell whose
// stdio is a TCP socket; armed, the kernel kills that shell at exec.
func TestPodReverseShell(t *testing.T) {
	n := node.Start(t)
	pod := n.CreatePod(t, node.PodSpec{Name: "revshell", Namespace: "probes",
		Containers: []node.ContainerSpec{
			{Name: "listener", Command: []string{"nc", "-ll", "-p", "4444", "-e", "/bin/cat"}},
			{Name: "app"},
		}})
	p, err := probes.Load(probes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cg := pod.CgroupID("app")
	if err := p.SetWatched(cg, probes.KindsOf(probes.KindExec, probes.KindConnect, probes.KindDup), probes.KillReverseShell); err != nil {
		t.Fatal(err)
	}
	c := collect(p, cg)

	// nc connects, dups the socket onto 0-2 and execs sh, which is killed:
	// nc -e replaces nc itself, so the exec'd command's fate is the exit code
	_, code := pod.Exec(t, "app", "nc", "-w", "5", "127.0.0.1", "4444", "-e", "/bin/sh", "-c", "echo shell-ran")
	if code != 137 {
		t.Errorf("reverse shell exit %d, want 137 (SIGKILL)", code)
	}
	conn := c.waitFor(t, "connect", func(e *probes.Record) bool { return e.Kind == probes.KindConnect && e.Port == 4444 })
	if conn.Addr.String() != "127.0.0.1" {
		t.Errorf("connect to %v, want 127.0.0.1", conn.Addr)
	}
	c.waitFor(t, "dup of the socket onto stdin", func(e *probes.Record) bool {
		return e.Kind == probes.KindDup && e.NewFD == 0 && e.Flags&probes.FlagInetStdio != 0
	})
	sh := c.waitFor(t, "exec of sh", func(e *probes.Record) bool { return e.Kind == probes.KindExec && e.Comm == "sh" })
	if !sh.Killed() || sh.Flags&(probes.FlagStdinSock|probes.FlagInetStdio) != probes.FlagStdinSock|probes.FlagInetStdio {
		t.Errorf("shell exec flags %#x, want killed with socket stdio", sh.Flags)
	}
	// a shell on ordinary stdio still runs
	if out, code := pod.Exec(t, "app", "sh", "-c", "echo fine"); code != 0 || out != "fine\n" {
		t.Errorf("plain shell: %q exit %d", out, code)
	}
}

package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/test/node"
)

// Every route to the same effect is one rule: the other system calls an
// intruder tries once the first is caught (clone instead of unshare, the
// new mount API, mknod, truncate instead of O_TRUNC, the other signal
// calls, io_uring) raise the rule of the effect, with its technique, in
// the pod that made them. Repeats of a rule in one container are folded
// for 10 s, so each variant of a rule runs in a pod of its own.

var logAllRoutes = strings.NewReplacer(`"php-watch"`, `"routes"`, `app = "php"`, `app = "routes"`).Replace(logAllPHP)

// routeAttack is one route: the shell command in a fresh pod, the rule,
// its technique, the event kind the kernel reported and details to check.
type routeAttack struct {
	name, cmd, rule, technique, kind string
	details                          map[string]string // key → substring of the value
}

func (a routeAttack) check(t *testing.T, ev events.Event, pod string) {
	t.Helper()
	if ev.Pod.Name != pod || ev.Container.Name != "app" || ev.Rule.Technique != a.technique || ev.Kind != a.kind {
		t.Errorf("%s: pod %s container %s technique %s event %s, want %s app %s %s (details %v)",
			a.name, ev.Pod.Name, ev.Container.Name, ev.Rule.Technique, ev.Kind, pod, a.technique, a.kind, ev.Details)
	}
	for k, want := range a.details {
		if got := fmt.Sprint(ev.Details[k]); !strings.Contains(got, want) {
			t.Errorf("%s: details[%s] = %q, want it to contain %q (details %v)", a.name, k, got, want, ev.Details)
		}
	}
}

// routesPod is a pod of the routes ruleset with the trigger as
// /opt/trigger and as python3 (an interpreter, for the connect rules).
func routesPod(t *testing.T, n *node.Node, name string, hostPID bool) *node.Pod {
	t.Helper()
	spec := sleeper(name, map[string]string{"app": "routes"})
	spec.HostPID = hostPID
	p := n.CreatePod(t, spec)
	installTrigger(t, p, "app", "/opt/trigger", "/usr/local/bin/python3")
	return p
}

func TestRouteAttacksInPods(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"routes.toml": logAllRoutes})
	gw := gateway(t, n)
	attacks := []routeAttack{
		{"clone", "/opt/trigger clone-ns /tmp/m", "namespace-escape", "T1611", "clone",
			map[string]string{"syscall": "clone", "flags": "CLONE_NEWUSER"}},
		{"clone3", "/opt/trigger clone-ns /tmp/m clone3", "namespace-escape", "T1611", "clone",
			map[string]string{"syscall": "clone3", "flags": "CLONE_NEWNS"}},
		{"clone3 with clone_args never faulted in", "/opt/trigger clone-ns /tmp/m unfaulted", "namespace-escape", "T1611", "clone",
			map[string]string{"syscall": "clone3", "flags": "unreadable"}},
		{"fsopen proc", "/opt/trigger mount-api proc", "mount-in-container", "T1611", "mount",
			map[string]string{"syscall": "fsopen", "fstype": "proc"}},
		{"fsconfig source a device", "/opt/trigger mount-api ext4", "mount-in-container", "T1611", "mount",
			map[string]string{"syscall": "fsconfig", "source": "/dev/pgtest"}},
		{"mknod block device", "/opt/trigger mknod /tmp", "device-node-created", "T1611", "mknod",
			map[string]string{"path": "/tmp/pg-blk", "type": "block"}},
		{"ftruncate a log", "mkdir -p /var/log && touch /var/log/app.log && /opt/trigger ftruncate /var/log/app.log", "clear-logs", "T1070.002", "truncate",
			map[string]string{"path": "/var/log/app.log", "operation": "truncate"}},
		{"truncate a log", "mkdir -p /var/log && touch /var/log/app.log && cd /var/log && /opt/trigger truncate app.log", "clear-logs", "T1070.002", "truncate",
			map[string]string{"path": "/var/log/app.log"}},
		{"io_uring set up", "/opt/trigger io-uring-write /tmp/w", "io-uring-in-container", "T1562.001", "io_uring", nil},
		{"io_uring OPENAT of /etc/shadow", "/opt/trigger io-uring-open /etc/shadow", "shadow-file-read", "T1003.008", "open",
			map[string]string{"path": "/etc/shadow"}},
		{"io_uring CONNECT from an interpreter", "python3 io-uring-conn " + gw + " 4444", "outbound-nonstandard-port-from-shell", "T1571", "connect",
			map[string]string{"port": "4444"}},
	}
	for i, a := range attacks {
		pod := fmt.Sprintf("routes-%d", i)
		p := routesPod(t, n, pod, false)
		p.Exec(t, "app", "sh", "-c", a.cmd+"; true")
		a.check(t, in.waitEvent(t, p, a.rule), pod)
	}
}

// TestSignalRoutesToPodguard: a host-pid pod signals podguard through each
// signal call besides kill. SIGURG is what the Go runtime itself uses
// between its threads: podguard shrugs it off, the rule still fires.
func TestSignalRoutesToPodguard(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"routes.toml": logAllRoutes})
	pid := in.cmd.Process.Pid
	for _, call := range []string{"rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal", "tkill"} {
		pod := "sig-" + strings.ReplaceAll(call, "_", "-")
		p := routesPod(t, n, pod, true)
		p.Exec(t, "app", "sh", "-c", fmt.Sprintf("/opt/trigger signals %d 23 %s; true", pid, call))
		ev := in.waitEvent(t, p, "podguard-tamper")
		routeAttack{name: call, technique: "T1562.001", kind: "kill",
			details: map[string]string{"syscall": call, "target_pid": fmt.Sprint(pid), "signal": "23"}}.check(t, ev, pod)
	}
}

// TestRouteCloneKilledInKernel: clone with CLONE_NEWUSER under a ruleset
// that terminates namespace-escape is killed at the syscall, before its
// next instruction (it would write the marker), and the pod is terminated.
func TestRouteCloneKilledInKernel(t *testing.T) {
	for _, mode := range []string{"", "clone3"} {
		t.Run("clone"+mode, func(t *testing.T) {
			n, in := guardedNode(t, "", map[string]string{"k.toml": "name = \"k\"\n[labels]\napp = \"routes-kill\"\n[[rule]]\nid = \"namespace-escape\"\nmitigation = \"terminate\"\n"})
			p := n.CreatePod(t, sleeper("clone-kill", map[string]string{"app": "routes-kill"}))
			installTrigger(t, p, "app", "/opt/trigger")
			if ev := killedInKernel(t, in, p, "namespace-escape", "/opt/trigger clone-ns /tmp/marker "+mode); ev.Kind != "clone" {
				t.Errorf("event kind %s, want clone", ev.Kind)
			}
		})
	}
}

// killedInKernel runs cmd in the pod's app container (its dangerous step
// comes before it writes /tmp/marker) and checks that the rule's event says
// the kernel killed it and terminate was applied, that it did not run past
// the kill, and that the pod's sandbox is gone.
func killedInKernel(t *testing.T, in *instance, p *node.Pod, rule, cmd string) events.Event {
	t.Helper()
	sandbox := p.SandboxPID()
	out, _ := p.Exec(t, "app", "sh", "-c", cmd+"; echo rc=$?; ls /tmp/marker 2>&1")
	ev := in.waitEvent(t, p, rule)
	if !ev.Process.KilledInKernel || ev.Mitigation.Action != "terminate" || ev.Mitigation.Result != "applied" {
		t.Fatalf("event: killed_in_kernel %v mitigation %+v", ev.Process.KilledInKernel, ev.Mitigation)
	}
	if strings.Contains(out, "rc=") && (!strings.Contains(out, "rc=137") || !strings.Contains(out, "No such file")) {
		t.Fatalf("the process ran past the kill: %q", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(sandbox) {
		if time.Now().After(deadline) {
			t.Fatal("pod sandbox still runs after terminate")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ev
}

// TestRouteNearMissesAreQuiet: the everyday neighbours of each route —
// forks and threads, a clone3 without namespace flags, signalling one's
// own child, truncating a data file, a FIFO, an fsopen of tmpfs — raise
// none of the route rules.
func TestRouteNearMissesAreQuiet(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"routes.toml": logAllRoutes})
	p := routesPod(t, n, "routes-quiet", false)
	for _, cmd := range []string{
		"/opt/trigger clone-plain",
		"(sleep 0 &) ; wait; echo sub | cat",
		"/opt/trigger signal-child",
		"/opt/trigger ftruncate /tmp/data.db then truncate /tmp/data.db",
		"/opt/trigger mkfifo /tmp/fifo",
	} {
		p.Exec(t, "app", "sh", "-c", cmd+"; true")
	}
	p.Exec(t, "app", "cat", "/etc/shadow") // a marker: everything before it is judged
	in.waitEvent(t, p, "shadow-file-read")
	got := rulesFor(in.events(t), p)
	for _, r := range []string{"namespace-escape", "podguard-tamper", "clear-logs", "write-below-etc", "device-node-created", "mount-in-container", "io-uring-in-container"} {
		if got[r] > 0 {
			t.Errorf("near miss raised %s: %s", r, summarize(in.events(t)))
		}
	}
}

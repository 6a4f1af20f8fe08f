package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/test/node"
)

const logAllDrift = "name = \"drift-watch\"\n[labels]\napp = \"drift\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n"

// waitWhere waits for an event of rule in pod for which match holds (the
// first event or a folded summary of repeats, whose details are the last
// repeat's: a rule's repeats in one container fold for 10 s).
func (in *instance) waitWhere(t testing.TB, pod *node.Pod, rule string, match func(events.Event) bool) events.Event {
	t.Helper()
	deadline := time.Now().Add(eventWait + 15*time.Second)
	for {
		for _, ev := range in.events(t) {
			if ev.Pod.UID == pod.UID && ev.Rule.ID == rule && match(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching %s event for pod %s; events: %s\nlog:\n%s", rule, pod.Name, summarizeDetails(in.events(t)), in.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func summarizeDetails(evs []events.Event) string {
	var s []string
	for _, ev := range evs {
		s = append(s, fmt.Sprintf("%s/%s:%s%v", ev.Pod.Name, ev.Container.Name, ev.Rule.ID, ev.Details))
	}
	return strings.Join(s, "\n")
}

// inContainer matches events of one container whose details hold want.
func inContainer(name string, want map[string]any) func(events.Event) bool {
	return func(ev events.Event) bool {
		if ev.Container.Name != name {
			return false
		}
		for k, v := range want {
			if fmt.Sprint(ev.Details[k]) != fmt.Sprint(v) {
				return false
			}
		}
		return true
	}
}

// TestDriftRoutesInPods: every way of executing a file that is not an
// unmodified image file raises container-drift with the file's origin,
// decided in the kernel on the file it loaded; the image's own programs,
// the entrypoint and the pause container raise nothing. Each route runs
// in a container of its own (a rule's repeats fold per container).
func TestDriftRoutesInPods(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"drift.toml": logAllDrift})
	routes := []struct {
		container string
		cmd       string
		trigger   bool // the route needs test/trigger, installed as /opt/trigger
		want      map[string]any
	}{
		{"upper", "cp /bin/busybox /tmp/bb && /tmp/bb true", false, map[string]any{"origin": "upper", "exe": "/tmp/bb"}},
		// chmod copies an image file up; it is no longer the image's
		{"copyup", "chmod 0755 /bin/busybox && /bin/busybox true", false, map[string]any{"origin": "upper", "copied_up": true, "exe": "/bin/busybox"}},
		{"tmpfs", "cp /bin/busybox /scratch/bb && /scratch/bb true", false, map[string]any{"origin": "tmpfs", "exe": "/scratch/bb"}},
		{"memfd", "/opt/trigger memfd-exec /tmp/m", true, map[string]any{"origin": "memfd"}},
		{"tmpfile", "/opt/trigger tmpfile-exec /tmp /tmp/m", true, map[string]any{"origin": "tmpfile"}},
		{"deleted", "/opt/trigger deleted-exec /tmp/gone /tmp/m", true, map[string]any{"origin": "tmpfile"}},
	}
	spec := node.PodSpec{Name: "drift", Labels: map[string]string{"app": "drift"}}
	for _, r := range routes {
		c := node.ContainerSpec{Name: r.container}
		if r.container == "tmpfs" {
			c.MemoryVolumes = []string{"/scratch"}
		}
		spec.Containers = append(spec.Containers, c)
	}
	spec.Containers = append(spec.Containers, node.ContainerSpec{Name: "quiet", MemoryVolumes: []string{"/scratch"}})
	p := n.CreatePod(t, spec)
	for _, r := range routes {
		if r.trigger {
			installTrigger(t, p, r.container, "/opt/trigger")
		}
		p.Exec(t, r.container, "sh", "-c", r.cmd+"; true")
	}
	// Near misses: image programs, a script on the image, busybox applets
	// and an exec session's shell are the image's own.
	p.Exec(t, "quiet", "sh", "-c", "ls /bin >/dev/null; /bin/busybox true; echo 'echo hi' > /scratch/s.sh; sh /scratch/s.sh; env | head -1")
	p.Exec(t, "quiet", "cat", "/etc/shadow") // a marker: all before it is evaluated
	in.waitEvent(t, p, "shadow-file-read")

	for _, r := range routes {
		ev := in.waitWhere(t, p, "container-drift", inContainer(r.container, r.want))
		if ev.Rule.Technique != "T1105" || ev.Pod.Name != "drift" {
			t.Errorf("%s: technique %s pod %s", r.container, ev.Rule.Technique, ev.Pod.Name)
		}
		if r.container == "memfd" {
			in.waitWhere(t, p, "fileless-exec-memfd", inContainer("memfd", map[string]any{"origin": "memfd"}))
		}
	}
	for _, ev := range in.events(t) {
		if ev.Pod.UID == p.UID && ev.Rule.ID == "container-drift" && (ev.Container.Name == "quiet" || ev.Container.Name == "") {
			t.Errorf("near miss raised container-drift: %v %v", ev.Container.Name, ev.Details)
		}
	}
}

// TestDriftKilledInKernel: with container-drift set to terminate, each
// route that needs only the image's busybox is killed by the kernel at
// exec, before the program writes its marker. (The memfd, O_TMPFILE and
// deleted-file routes need a dropped launcher, which is itself drift and
// killed first: their kills are tested on the probes,
// probes.TestKillDriftEveryRoute.)
func TestDriftKilledInKernel(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"d.toml": "name = \"d\"\n[labels]\napp = \"drift-kill\"\n[[rule]]\nid = \"container-drift\"\nmitigation = \"terminate\"\n"})
	for _, r := range []struct{ name, prepare, exe, origin string }{
		{"upper", "cp /bin/busybox /tmp/bb", "/tmp/bb", "upper"},
		{"copyup", "chmod 0755 /bin/busybox", "/bin/busybox", "upper"},
		{"tmpfs", "cp /bin/busybox /scratch/bb", "/scratch/bb", "tmpfs"},
	} {
		p := n.CreatePod(t, node.PodSpec{Name: "drift-kill-" + r.name, Labels: map[string]string{"app": "drift-kill"},
			Containers: []node.ContainerSpec{{Name: "app", MemoryVolumes: []string{"/scratch"}}}})
		out, _ := p.Exec(t, "app", "sh", "-c", r.prepare+"; "+r.exe+" touch /tmp/marker; echo rc=$?; ls /tmp/marker 2>&1")
		ev := in.waitEvent(t, p, "container-drift")
		if !ev.Process.KilledInKernel || ev.Details["origin"] != r.origin || ev.Details["exe"] != r.exe {
			t.Errorf("%s: killed_in_kernel %v details %v, want killed, origin %s, exe %s", r.name, ev.Process.KilledInKernel, ev.Details, r.origin, r.exe)
		}
		if strings.Contains(out, "rc=") && (!strings.Contains(out, "rc=137") || !strings.Contains(out, "No such file")) {
			t.Errorf("%s: the drifted program ran: %q", r.name, out)
		}
	}
}

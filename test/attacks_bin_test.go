package test

import (
	"os"
	"strings"
	"testing"

	"github.com/podguard/podguard/test/node"
	"github.com/podguard/podguard/test/testbin"
)

// installTrigger copies test/trigger's static program into a running
// container under the given paths (written in the container, so on its
// upper layer, like a dropped tool).
func installTrigger(t *testing.T, p *node.Pod, container string, paths ...string) {
	t.Helper()
	data, err := os.ReadFile(testbin.Build(t, testbin.Trigger))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		p.WriteFile(t, container, path, data, 0o755)
	}
}

// TestSyscallAttacksInPods covers the rules busybox cannot trigger: a
// small static program does the syscalls (ptrace, process injection,
// fileless exec, BPF loading, asking for root back, an interpreter
// calling out), run inside a real pod.
func TestSyscallAttacksInPods(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"php.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "php-sys"`, 1)})
	gw := gateway(t, n)
	p := n.CreatePod(t, node.PodSpec{Name: "sys", Labels: map[string]string{"app": "php-sys"}, Containers: []node.ContainerSpec{{
		Name: "app", Command: []string{"sleep", "infinity"},
		Env: map[string]string{"KUBERNETES_SERVICE_HOST": gw, "KUBERNETES_SERVICE_PORT": "6443"},
	}}})
	installTrigger(t, p, "app", "/opt/trigger", "/usr/local/bin/python3")
	attacks := []attack{
		{"ptrace-injection", "/opt/trigger ptrace /tmp/ptraced; true", detail("request", "PTRACE_ATTACH")},
		{"fileless-exec-memfd", "/opt/trigger memfd-exec /tmp/memfd-ran; true", nil},
		{"bpf-program-load", "/opt/trigger bpf-prog-load; true", detail("cmd", "BPF_PROG_LOAD")},
		{"privilege-raise-to-root", "/opt/trigger setuid0; true", nil},
		{"outbound-nonstandard-port-from-shell", "python3 tcp " + gw + " 4444; true", nil},
		{"kubernetes-api-contact", "timeout 2 wget -q -O /dev/null http://" + gw + ":6443/; true", nil},
		{"reverse-shell", "/opt/trigger revshell /tmp/rev; true", nil},
	}
	for _, a := range attacks {
		p.Exec(t, "app", "sh", "-c", a.cmd)
		ev := in.waitEvent(t, p, a.rule)
		if ev.Pod.Name != "sys" || ev.Container.Name != "app" {
			t.Errorf("%s: event identity wrong: %+v", a.rule, ev)
		}
		if a.check != nil {
			a.check(t, ev)
		}
	}
	// Near misses: the same program calling out on port 443, and wget to
	// another port than the API server's, raise neither rule.
	q := n.CreatePod(t, node.PodSpec{Name: "sys-quiet", Labels: map[string]string{"app": "php-sys"}, Containers: []node.ContainerSpec{{
		Name: "app", Command: []string{"sleep", "infinity"},
		Env: map[string]string{"KUBERNETES_SERVICE_HOST": gw, "KUBERNETES_SERVICE_PORT": "6443"},
	}}})
	installTrigger(t, q, "app", "/usr/local/bin/python3")
	q.Exec(t, "app", "sh", "-c", "python3 tcp "+gw+" 443; timeout 2 wget -q -O /dev/null http://"+gw+":8080/; true")
	q.Exec(t, "app", "cat", "/etc/shadow") // a marker event: everything before it is evaluated
	in.waitEvent(t, q, "shadow-file-read")
	got := rulesFor(in.events(t), q)
	for _, r := range []string{"outbound-nonstandard-port-from-shell", "kubernetes-api-contact"} {
		if got[r] > 0 {
			t.Errorf("near miss raised %s: %s", r, summarize(in.events(t)))
		}
	}
}

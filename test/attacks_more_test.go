package test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"

	"github.com/podguard/podguard/test/node"
)

// TestToolAttacksInPods covers the rules about tools and servers: the
// tools are busybox under the names attackers' tools have (the rules key
// on the name a program is run by), put where an image would ship them.
func TestToolAttacksInPods(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"php.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "php-tools"`, 1)})
	p := n.CreatePod(t, node.PodSpec{Name: "tools", Labels: map[string]string{"app": "php-tools"}, Containers: []node.ContainerSpec{{
		Name: "app",
		// A web server whose CGI script runs a shell: the shape of a
		// remote code execution. The tool names are linked to busybox
		// before anything runs.
		Command: []string{"sh", "-c", `mkdir -p /opt/bin /www/cgi-bin &&
for t in kubectl apk ssh sudo; do ln -s /bin/busybox /opt/bin/$t; done &&
printf '#!/bin/sh\necho Content-Type: text/plain\necho\nid\n' > /www/cgi-bin/run && chmod 755 /www/cgi-bin/run &&
exec httpd -f -p 8080 -h /www`},
	}}})

	attacks := []attack{
		{"container-client-tool", "/opt/bin/kubectl get pods; true", nil},
		{"package-manager-in-container", "/opt/bin/apk add nmap; true", nil},
		{"ssh-client-in-container", "/opt/bin/ssh root@10.0.0.2; true", nil},
		{"sudo-in-container", "/opt/bin/sudo id; true", nil},
		{"downloader-in-container", "wget -T 1 -O /tmp/payload http://127.0.0.1:9/x; true", nil},
		{"data-destruction", "echo secret > /tmp/f && shred /tmp/f", nil},
		{"credential-search", "grep -r 'BEGIN RSA PRIVATE KEY' /etc; true", detail("pattern", "PRIVATE KEY")},
		{"private-key-read", "mkdir -p /root/.ssh && echo k > /root/.ssh/id_rsa && cat /root/.ssh/id_rsa", detail("path", "/root/.ssh/id_rsa")},
		{"dynamic-linker-hijack", "echo /tmp/evil.so > /etc/ld.so.preload", detail("path", "/etc/ld.so.preload")},
		{"init-persistence", "mkdir -p /etc/systemd/system && echo '[Service]' > /etc/systemd/system/evil.service", detail("path", "/etc/systemd/system/evil.service")},
		{"cgroup-release-agent", "echo /tmp/x > /tmp/release_agent", detail("path", "/tmp/release_agent")},
		{"runtime-binary-overwrite", "echo x > /proc/self/exe; true", nil},
		{"proc-mem-access", "dd if=/proc/1/mem of=/dev/null bs=1 count=1 2>/dev/null; true", detail("path", "/proc/1/mem")},
		{"container-runtime-socket", "echo x > /run/containerd.sock; true", detail("path", "/run/containerd.sock")},
		{"podguard-tamper", "mkdir -p /host/etc/podguard/rules.d && echo 'enabled = false' > /host/etc/podguard/config.toml", detail("path", "/host/etc/podguard/config.toml")},
		{"shell-spawned-by-server", "wget -q -O /dev/null http://127.0.0.1:8080/cgi-bin/run; true", nil},
	}
	for _, a := range attacks {
		p.Exec(t, "app", "sh", "-c", a.cmd)
		ev := in.waitEvent(t, p, a.rule)
		if ev.Pod.Name != "tools" || ev.Container.Name != "app" || ev.Ruleset != "php-watch" {
			t.Errorf("%s: event identity wrong: %+v", a.rule, ev)
		}
		if a.check != nil {
			a.check(t, ev)
		}
	}
	// The same rule again, through tc this time (a different event kind).
	p.Exec(t, "app", "sh", "-c", "tc filter del dev eth0 ingress 2>/dev/null; true")
	deadline := time.Now().Add(eventWait)
	for !hasEvent(in.events(t), func(ev events.Event) bool {
		return ev.Pod.UID == p.UID && ev.Rule.ID == "podguard-tamper" && ev.Kind == "exec"
	}) {
		if time.Now().After(deadline) {
			t.Fatalf("tc deleting filters raised no podguard-tamper: %s", summarize(in.events(t)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := rulesFor(in.events(t), p)
	if got["terminal-shell-in-container"] > 0 {
		t.Errorf("an exec without a terminal raised terminal-shell-in-container")
	}
}

// TestTerminalShell opens an interactive shell in a pod the way `kubectl
// exec -it` does (an exec with a terminal, here through ctr), and checks
// that the entrypoint shell and a shell without a terminal are not it.
func TestTerminalShell(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("needs script(1) from bsdutils to give the exec a terminal")
	}
	n, in := guardedNode(t, "", map[string]string{"php.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "php-tty"`, 1)})
	p := n.CreatePod(t, node.PodSpec{Name: "tty", Labels: map[string]string{"app": "php-tty"}, Containers: []node.ContainerSpec{{
		Name: "app", Command: []string{"sh", "-c", "while true; do sleep 1; done"}}}})
	p.Exec(t, "app", "sh", "-c", "true") // no terminal
	ctr := "ctr --address " + n.Socket() + " -n " + n.Namespace() + " task exec -t --exec-id pgtty " + p.ContainerID("app") + " sh -c 'tty; exit 0'"
	out, err := exec.Command("script", "-qec", ctr, "/dev/null").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "/dev/pts/") {
		t.Fatalf("exec with a terminal: %v\n%s", err, out)
	}
	ev := in.waitEvent(t, p, "terminal-shell-in-container")
	if ev.Details["tty"] != true {
		t.Errorf("details %v", ev.Details)
	}
	if n := rulesFor(in.events(t), p)["terminal-shell-in-container"]; n != 1 {
		t.Errorf("terminal-shell-in-container raised %d times, want once (the entrypoint and the plain exec are not interactive)", n)
	}
}

func hasEvent(evs []events.Event, match func(events.Event) bool) bool {
	for _, ev := range evs {
		if match(ev) {
			return true
		}
	}
	return false
}

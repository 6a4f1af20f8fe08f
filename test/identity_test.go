package test

import (
	"os"
	"strings"
	"testing"

	"github.com/podguard/podguard/test/node"
)

// identityCase is one attack in a container of its own (a rule's repeats
// fold per container): what to install, what to run, and the event.
type identityCase struct {
	container string
	trigger   []string // paths test/trigger is installed at
	loader    bool     // the host's dynamic loader is installed at /lib64
	cmd       string
	rule      string
	want      map[string]any // details the event must hold
}

// TestIdentityInPods: what ran is judged from the executed file and from
// what a program does, never from a name the attacker picks: a symlink
// or an upper-layer file named sshd or apk exempts nothing, busybox
// applets and the dynamic loader are seen for what they run, and a
// reverse shell is known by its stdio whatever the binary is called.
func TestIdentityInPods(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"id.toml": "name = \"id\"\n[labels]\napp = \"ident\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n"})
	cases := []identityCase{
		// names that used to switch rules off
		{container: "sshd-link", trigger: []string{"/opt/trigger"}, cmd: "ln -s /opt/trigger /tmp/sshd && /tmp/sshd open-read /etc/shadow",
			rule: "shadow-file-read", want: map[string]any{"path": "/etc/shadow"}},
		{container: "sshd-upper", trigger: []string{"/usr/sbin/sshd"}, cmd: "/usr/sbin/sshd open-read /etc/shadow",
			rule: "shadow-file-read", want: map[string]any{"path": "/etc/shadow"}},
		{container: "apk-upper", trigger: []string{"/sbin/apk"}, cmd: "/sbin/apk open-write /usr/bin/evil",
			rule: "write-below-binary-dir", want: map[string]any{"path": "/usr/bin/evil"}},
		{container: "apk-link", trigger: []string{"/opt/trigger"}, cmd: "ln -s /opt/trigger /tmp/apk && /tmp/apk open-write /bin/evil",
			rule: "write-below-binary-dir", want: map[string]any{"path": "/bin/evil"}},
		// multi-call applets by argv[1], a renamed busybox, the loader
		{container: "bb-nc", cmd: "busybox nc -w 1 -e /bin/sh 127.0.0.1 4444", rule: "netcat-remote-exec"},
		{container: "bb-renamed", cmd: "cp /bin/busybox /tmp/busybox-x && /tmp/busybox-x nc -w 1 -e /bin/sh 127.0.0.1 4444", rule: "netcat-remote-exec"},
		{container: "bb-wget", cmd: "busybox timeout 2 busybox wget -q -O /tmp/x http://127.0.0.1:1/", rule: "downloader-in-container"},
		{container: "bb-nsenter", cmd: "busybox nsenter -t 1 -u true", rule: "namespace-escape"},
		{container: "loader", loader: true, cmd: "/lib64/ld-linux-x86-64.so.2 /bin/sh -c true",
			rule: "loader-runs-program", want: map[string]any{"program": "/bin/sh", "exe": "/lib64/ld-linux-x86-64.so.2"}},
		// reverse shells by behaviour
		{container: "rev-bbsh", trigger: []string{"/opt/trigger"}, cmd: "/opt/trigger exec-inet-stdio /bin/busybox sh -c true",
			rule: "reverse-shell", want: map[string]any{"exe": "/bin/busybox", "origin": "image"}},
		{container: "rev-renamed", trigger: []string{"/opt/trigger"}, cmd: "cp /bin/busybox /tmp/worker && /opt/trigger exec-inet-stdio /tmp/worker true",
			rule: "reverse-shell", want: map[string]any{"exe": "/tmp/worker", "origin": "upper"}},
		{container: "rev-fcntl", trigger: []string{"/usr/local/bin/python3"}, cmd: "python3 dup-fcntl",
			rule: "reverse-shell", want: map[string]any{"new_fd": 0, "socket": "inet"}},
	}
	spec := node.PodSpec{Name: "ident", Labels: map[string]string{"app": "ident"}, Containers: []node.ContainerSpec{{Name: "quiet"}}}
	for _, c := range cases {
		spec.Containers = append(spec.Containers, node.ContainerSpec{Name: c.container})
	}
	p := n.CreatePod(t, spec)
	for _, c := range cases {
		installTrigger(t, p, c.container, c.trigger...)
		if c.loader {
			installLoader(t, p, c.container)
		}
		p.Exec(t, c.container, "sh", "-c", c.cmd+"; true")
	}
	// Near misses: a shell run with a pipe on stdin, a shell reading a
	// script from stdin, busybox applets about their business, a file
	// whose path holds ".." opened by an image program.
	p.Exec(t, "quiet", "sh", "-c", "echo 'echo hi' | sh; sh -c 'cat' </dev/null; busybox ls / >/dev/null; cat /etc/../etc/passwd >/dev/null; true")
	p.Exec(t, "quiet", "cat", "/etc/shadow") // a marker: all before it is evaluated
	in.waitEvent(t, p, "shadow-file-read")

	for _, c := range cases {
		ev := in.waitWhere(t, p, c.rule, inContainer(c.container, c.want))
		if ev.Pod.Name != "ident" || ev.Rule.Technique == "" {
			t.Errorf("%s: pod %q technique %q", c.container, ev.Pod.Name, ev.Rule.Technique)
		}
	}
	for _, ev := range in.events(t) {
		if ev.Pod.UID == p.UID && ev.Container.Name == "quiet" && ev.Rule.ID != "shadow-file-read" {
			t.Errorf("near miss raised %s: %v", ev.Rule.ID, ev.Details)
		}
	}
}

// installLoader copies the node's glibc dynamic loader into a container.
func installLoader(t *testing.T, p *node.Pod, container string) {
	t.Helper()
	data, err := os.ReadFile("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Skipf("no dynamic loader on the node: %v", err)
	}
	p.WriteFile(t, container, "/lib64/ld-linux-x86-64.so.2", data, 0o755)
}

// TestReverseShellKilledWhateverItsName: with reverse-shell set to
// terminate, busybox started with the network on stdin and stdout is
// killed by the kernel at exec (its comm is "busybox", no shell name),
// before it writes its marker.
func TestReverseShellKilledWhateverItsName(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"r.toml": "name = \"r\"\n[labels]\napp = \"rev-kill\"\n[[rule]]\nid = \"reverse-shell\"\nmitigation = \"terminate\"\n"})
	p := n.CreatePod(t, sleeper("rev-kill", map[string]string{"app": "rev-kill"}))
	installTrigger(t, p, "app", "/opt/trigger")
	out, _ := p.Exec(t, "app", "sh", "-c", "/opt/trigger exec-inet-stdio /bin/busybox touch /tmp/marker; echo rc=$?; ls /tmp/marker 2>&1")
	ev := in.waitEvent(t, p, "reverse-shell")
	if !ev.Process.KilledInKernel || ev.Rule.Technique != "T1059.004" || ev.Details["exe"] != "/bin/busybox" {
		t.Errorf("event: killed_in_kernel %v technique %s details %v", ev.Process.KilledInKernel, ev.Rule.Technique, ev.Details)
	}
	if strings.Contains(out, "rc=") && (!strings.Contains(out, "rc=137") || !strings.Contains(out, "No such file")) {
		t.Errorf("the program ran: %q", out)
	}
	if a := ev.Process.Args; len(a) == 0 || a[len(a)-1] != "/tmp/marker" {
		t.Errorf("killed process args %v, want the marker writer", a)
	}
}

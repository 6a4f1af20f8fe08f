package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podguard/podguard/daemon/events"
	"github.com/podguard/podguard/test/node"
)

// alias is one way to reach a watched object under another name, and what
// the event must then say.
type alias struct {
	name      string // what the attacker tried
	cmd       string // run with sh -c in a fresh pod (folding is per container)
	rule      string
	technique string
	details   map[string]any // exact values the event's details must have
}

// TestAliasesAreJudgedOnTheOpenedObject: every alias of /etc/shadow
// (path spellings, a symlink, /proc/self/root, an fd reopen, relative
// paths, openat2, a path in memory the process never touched), a connect
// and a UDP sendto whose sockaddr is in untouched memory, and a rename
// to a "//" spelling of /etc/ld.so.preload, each raise their rule with
// the canonical path or address — in a real pod.
func TestAliasesAreJudgedOnTheOpenedObject(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"alias.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "alias"`, 1)})
	gw := gateway(t, n)
	shadow := func(raw string) map[string]any { return map[string]any{"path": "/etc/shadow", "raw_path": raw} }
	cases := []alias{
		{"plain", "cat /etc/shadow", "shadow-file-read", "T1003.008", map[string]any{"path": "/etc/shadow"}},
		{"plain2", "cat /etc/shadow", "shadow-file-read", "T1003.008", map[string]any{"path": "/etc/shadow"}},
		{"double slash", "cat //etc/shadow", "shadow-file-read", "T1003.008", shadow("//etc/shadow")},
		{"dot", "cat /etc/./shadow", "shadow-file-read", "T1003.008", shadow("/etc/./shadow")},
		{"dot-dot", "cat /etc/../etc/shadow", "shadow-file-read", "T1003.008", shadow("/etc/../etc/shadow")},
		{"symlink", "ln -s /etc/shadow /tmp/s && cat /tmp/s", "shadow-file-read", "T1003.008", shadow("/tmp/s")},
		{"hard link", "ln /etc/shadow /tmp/h && cat /tmp/h", "sensitive-file-linked", "T1552", map[string]any{"target": "/etc/shadow", "link": "/tmp/h", "link_type": "hard"}},
		{"symlink to another root", "cd /tmp && ln -s ../proc/1/root r", "sensitive-file-linked", "T1552", map[string]any{"target": "/proc/1/root", "link": "/tmp/r", "link_type": "symbolic"}},
		{"chroot", "cp /bin/busybox /etc/cat && chroot /etc /cat /shadow", "shadow-file-read", "T1003.008", map[string]any{"path": "/etc/shadow"}},
		{"proc root", "cat /proc/self/root/etc/shadow", "shadow-file-read", "T1003.008", shadow("/proc/self/root/etc/shadow")},
		{"relative to cwd", "cd /etc && cat shadow", "shadow-file-read", "T1003.008", shadow("shadow")},
		{"relative to dirfd", "/opt/trigger open-dirfd-read /etc ./shadow", "shadow-file-read", "T1003.008", shadow("./shadow")},
		{"openat2", "/opt/trigger openat2 /etc/../etc//shadow", "shadow-file-read", "T1003.008", shadow("/etc/../etc//shadow")},
		{"unfaulted path", "/opt/trigger open-unfaulted /etc/shadow", "shadow-file-read", "T1003.008", map[string]any{"path": "/etc/shadow"}},
		{"mv to //", "echo /x.so > /tmp/p && mv /tmp/p /etc//ld.so.preload", "dynamic-linker-hijack", "T1574.006", map[string]any{"path": "/etc/ld.so.preload"}},
		{"open_by_handle_at", "/opt/trigger open-handle /etc/shadow; true", "host-device-access", "T1611", map[string]any{"syscall": "open_by_handle_at"}},
		{"unfaulted connect", "python3 connect-unfaulted " + gw + " 4444; true", "outbound-nonstandard-port-from-shell", "T1571", map[string]any{"address": gw, "port": float64(4444)}},
		{"unfaulted sendto", "python3 sendto-unfaulted " + gw + " 4445; true", "outbound-nonstandard-port-from-shell", "T1571", map[string]any{"address": gw, "port": float64(4445)}},
	}
	for i, c := range cases {
		p := n.CreatePod(t, sleeper(fmt.Sprintf("alias-%d", i), map[string]string{"app": "alias"}))
		installTrigger(t, p, "app", "/opt/trigger", "/usr/local/bin/python3")
		p.Exec(t, "app", "sh", "-c", c.cmd)
		ev := in.waitEvent(t, p, c.rule)
		checkAliasEvent(t, c, p, ev)
	}

	// The reopen's second open arrives as /etc/shadow with the
	// /proc/self/fd/N spelling (the first, O_PATH, open fires too).
	p := n.CreatePod(t, sleeper("alias-reopen", map[string]string{"app": "alias"}))
	installTrigger(t, p, "app", "/opt/trigger")
	p.Exec(t, "app", "/opt/trigger", "reopen", "/etc/shadow")
	in.waitEvent(t, p, "shadow-file-read")
	waitFor(t, func() bool {
		for _, ev := range in.events(t) {
			if raw, _ := ev.Details["raw_path"].(string); ev.Pod.UID == p.UID && strings.HasPrefix(raw, "/proc/self/fd/") {
				return ev.Details["path"] == "/etc/shadow"
			}
		}
		return false
	}, "a shadow-file-read through /proc/self/fd/N")
}

// TestAliasNearMissesAreQuiet: paths with "..", "//" and symlinks that
// resolve outside the sensitive files, and /etc/passwd through the same
// aliases, raise nothing.
func TestAliasNearMissesAreQuiet(t *testing.T) {
	n, in := guardedNode(t, "", map[string]string{"alias.toml": strings.Replace(logAllPHP, `app = "php"`, `app = "alias-quiet"`, 1)})
	p := n.CreatePod(t, sleeper("alias-quiet", map[string]string{"app": "alias-quiet"}))
	for _, c := range []string{
		"cat /etc/../etc/passwd //etc/./passwd /proc/self/root/etc/passwd >/dev/null",
		"mkdir -p /tmp/a/b && echo ok > /tmp/a/f && cat /tmp/a/b/../f /tmp/a/b/../../a/f >/dev/null",
		"ln -s /etc/passwd /tmp/shadow && cat /tmp/shadow >/dev/null", // named like it, is not it
		"cd /etc && cat ./passwd ../etc/hostname >/dev/null",
	} {
		p.Exec(t, "app", "sh", "-c", c)
	}
	p.Exec(t, "app", "cat", "/etc/shadow") // a marker: everything before it is evaluated
	in.waitEvent(t, p, "shadow-file-read")
	for _, ev := range in.events(t) {
		if ev.Pod.UID == p.UID && (ev.Rule.ID != "shadow-file-read" || ev.Details["raw_path"] != nil) {
			t.Errorf("near miss raised %s: %v", ev.Rule.ID, ev.Details)
		}
	}
}

func checkAliasEvent(t *testing.T, c alias, p *node.Pod, ev events.Event) {
	t.Helper()
	if ev.Pod.UID != p.UID || ev.Container.Name != "app" || ev.Rule.Technique != c.technique {
		t.Errorf("%s: event identity wrong: pod %s container %s technique %s", c.name, ev.Pod.Name, ev.Container.Name, ev.Rule.Technique)
	}
	for k, want := range c.details {
		if got := ev.Details[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %s details[%s] = %v, want %v (details %v)", c.name, c.rule, k, got, want, ev.Details)
		}
	}
}

// waitFor polls cond until it holds or eventWait passes.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(eventWait); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, eventWait)
		}
	}
}
